/** Read-only permissions that need admin consent: read users (incl. accountEnabled) and groups. */
export const GRAPH_SCOPES = [
  'https://graph.microsoft.com/User.Read.All',
  'https://graph.microsoft.com/Group.Read.All',
];

/** What Microsoft hands back for a grant, before it is sealed into a connection. */
export interface GrantTokens {
  refreshToken: string;
  accessToken: string;
  accessTokenExpiresAt: Date;
  scopes: string[];
}
