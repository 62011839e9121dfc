/**
 * Published inside the transaction that deletes an organization's Entra connection, so that what other modules
 * keep about that tenant goes in the same unit of work. Deprovisioning drops the organization's sync state (the
 * delta link and the last-run mark): a later connection, to the same tenant or another, starts with a full round.
 */
export const ENTRA_DISCONNECTED = 'entra.disconnected';

export interface EntraDisconnectedEvent {
  organizationId: string;
  tenantId: string;
}
