import type { MigrationInterface } from 'typeorm';
import { Initial1795306618795 } from './1795306618795-initial.js';
import { EntraConnections1795307570616 } from './1795307570616-entra-connections.js';
import { ProvisioningAndRoleMapping1795308137552 } from './1795308137552-provisioning-and-role-mapping.js';
import { DirectorySync1795309250169 } from './1795309250169-directory-sync.js';
import { SyncApprovalQueue1796120365850 } from './1796120365850-sync-approval-queue.js';
import { SignInRateLimits1796121463419 } from './1796121463419-sign-in-rate-limits.js';
import { RedirectFlows1796200000000 } from './1796200000000-redirect-flows.js';
import { SessionIdleTimeout1796300000000 } from './1796300000000-session-idle-timeout.js';
import { DomainClaims1796400000000 } from './1796400000000-domain-claims.js';
import { InvitationChoices1796410000000 } from './1796410000000-invitation-choices.js';
import { TenantAssignment1796500000000 } from './1796500000000-tenant-assignment.js';
import { DirectorySeenSet1796510000000 } from './1796510000000-directory-seen-set.js';
import { UsersListIndexes1796520000000 } from './1796520000000-users-list-indexes.js';
import { SyncStateOfDisconnected1796530000000 } from './1796530000000-sync-state-of-disconnected.js';
import { ApiKeys1796540000000 } from './1796540000000-api-keys.js';
import { Events1796541000000 } from './1796541000000-events.js';
import { Webhooks1796542000000 } from './1796542000000-webhooks.js';
import { WebhookDeliveryOrder1796543000000 } from './1796543000000-webhook-delivery-order.js';
import { ScimAccess1796600000000 } from './1796600000000-scim-access.js';
import { ScimUsers1796610000000 } from './1796610000000-scim-users.js';
import { ScimUsersLookups1796610000001 } from './1796610000001-scim-users-lookups.js';
import { ScimUsersNameFilters1796610000002 } from './1796610000002-scim-users-name-filters.js';
import { ScimGroups1796620000000 } from './1796620000000-scim-groups.js';
import { ScimGroupMemberDisplay1796620000001 } from './1796620000001-scim-group-member-display.js';
import { OrganizationSeatCounts1796700000000 } from './1796700000000-organization-seat-counts.js';
import { ScimUsersUserDeferred1796700000001 } from './1796700000001-scim-users-user-deferred.js';
import { UsersListSearchColumn1796910000000 } from './1796910000000-users-list-search-column.js';

/** Every migration in order. `npm run migration:generate` appends here. */
export const MIGRATIONS: (new () => MigrationInterface)[] = [
  Initial1795306618795,
  EntraConnections1795307570616,
  ProvisioningAndRoleMapping1795308137552,
  DirectorySync1795309250169,
  SyncApprovalQueue1796120365850,
  SignInRateLimits1796121463419,
  RedirectFlows1796200000000,
  SessionIdleTimeout1796300000000,
  DomainClaims1796400000000,
  InvitationChoices1796410000000,
  TenantAssignment1796500000000,
  DirectorySeenSet1796510000000,
  UsersListIndexes1796520000000,
  SyncStateOfDisconnected1796530000000,
  ApiKeys1796540000000,
  Events1796541000000,
  Webhooks1796542000000,
  WebhookDeliveryOrder1796543000000,
  ScimAccess1796600000000,
  ScimUsers1796610000000,
  ScimUsersLookups1796610000001,
  ScimUsersNameFilters1796610000002,
  ScimGroups1796620000000,
  ScimGroupMemberDisplay1796620000001,
  OrganizationSeatCounts1796700000000,
  ScimUsersUserDeferred1796700000001,
  UsersListSearchColumn1796910000000,
];
