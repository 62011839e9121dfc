import type { FactoryProvider } from '@nestjs/common';
import { ScimResourceCounts } from '../access/scim-resource-counts.js';
import { ScimUsersService } from './scim-users.service.js';

/**
 * Tells the SCIM status how many users SCIM manages (not deleted through SCIM), through access's port: listed
 * among the SCIM module's providers, where both the port and the users service are visible.
 */
export const SCIM_USERS_COUNT_PROVIDER: FactoryProvider<true> = {
  provide: 'SCIM_USERS_COUNT',
  inject: [ScimResourceCounts, ScimUsersService],
  useFactory: (counts: ScimResourceCounts, users: ScimUsersService) => {
    counts.provide('users', (organizationId) => users.countManaged(organizationId));
    return true;
  },
};
