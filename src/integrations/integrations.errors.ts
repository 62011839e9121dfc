import { DomainError, defineCodes, defineErrors } from '../common/domain-error.js';

export const INTEGRATIONS_ERRORS = defineErrors({
  ENTRA_NOT_CONNECTED: {
    kind: 'conflict',
    description: 'This organization is not connected to an Entra ID tenant.',
  },
  ENTRA_REAUTHORIZATION_REQUIRED: {
    kind: 'conflict',
    description:
      'Microsoft no longer accepts this connection’s grant (consent revoked or the consenting admin left). ' +
      'An administrator must connect the tenant again.',
  },
  ENTRA_CREDENTIALS_UNREADABLE: {
    kind: 'conflict',
    description:
      'The stored Microsoft credentials of this connection cannot be decrypted. ' +
      'An administrator must connect the tenant again.',
  },
});

export class EntraNotConnectedError extends DomainError {
  static readonly definition = INTEGRATIONS_ERRORS.ENTRA_NOT_CONNECTED;
  constructor() {
    super(EntraNotConnectedError.definition);
  }
}

export class EntraReauthorizationRequiredError extends DomainError {
  static readonly definition = INTEGRATIONS_ERRORS.ENTRA_REAUTHORIZATION_REQUIRED;
  constructor() {
    super(EntraReauthorizationRequiredError.definition);
  }
}

/** Stable codes of a failed connection, sent to the UI as `?status=error&code=<code>`. */
export const CONNECT_ERRORS = defineCodes('connect_redirect', {
  admin_consent_required:
    'The account used cannot grant admin consent. Ask a Global Administrator (or Privileged Role Administrator) ' +
    'of the tenant to complete the connection, or to pre-approve admin consent for this app in Entra ID.',
  admin_role_required:
    'Only a tenant administrator can connect the tenant: the account used holds none of Global Administrator, ' +
    'Privileged Role Administrator, Application Administrator or Cloud Application Administrator. A consent ' +
    'already granted for the tenant is not enough. Nothing was connected.',
  roles_claim_missing:
    'Microsoft’s ID token carried no directory roles (`wids`), so the account’s administrator role cannot be ' +
    'checked. Emit the `wids` claim: in the app registration’s Token configuration, keep the default claims ' +
    '(or add the optional claim). Nothing was connected.',
  consent_declined: 'The consent request was cancelled or declined at Microsoft. Nothing was connected.',
  invalid_state:
    'The connection link expired, was already used, or was opened by another user or browser. Start again from the settings page.',
  tenant_already_connected:
    'This Entra ID tenant is already connected to another organization. A tenant can be connected to one organization at a time.',
  another_tenant_connected: 'This organization is connected to a different tenant. Disconnect it first.',
  domains_claimed:
    'Some of the tenant’s verified domains are already claimed by another organization in this tenant. ' +
    'Nothing was connected.',
  connection_failed:
    'Microsoft or the directory could not be reached, or the grant was incomplete. Try again.',
});

export type ConnectErrorCode = keyof typeof CONNECT_ERRORS;

export class ConnectFailure extends Error {
  constructor(readonly code: ConnectErrorCode) {
    super(code);
  }
}
