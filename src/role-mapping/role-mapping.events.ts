/**
 * Published inside the transaction that creates, changes or deletes a group → role mapping, with the Entra
 * group ids it concerned (before and after a change). Where the product itself knows a user's groups (the SCIM
 * groups Entra pushed), their roles re-resolve in the same unit of work; everyone else's at their next sign-in.
 */
export const ROLE_MAPPINGS_CHANGED = 'role_mapping.changed';

export interface RoleMappingsChangedEvent {
  organizationId: string;
  groupIds: string[];
}
