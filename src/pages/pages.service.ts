import { Injectable } from '@nestjs/common';
import type { Principal } from '../common/principal.js';
import { EntraConnectionService } from '../integrations/entra-connection.service.js';
import { OrganizationsService } from '../organizations/organizations.service.js';
import { UsersService } from '../users/users.service.js';
import type { ConnectionView, SignedInView } from './pages.views.js';

/** What the result pages show about the signed-in person, read through the owning modules' services. */
@Injectable()
export class PagesService {
  constructor(
    private readonly users: UsersService,
    private readonly organizations: OrganizationsService,
    private readonly connections: EntraConnectionService,
  ) {}

  async signedIn(principal: Principal): Promise<SignedInView> {
    const { user } = await this.users.getMe(principal);
    const organization = await this.organizations.get(principal.organizationId);
    return {
      displayName: user.displayName,
      email: user.email,
      role: user.role,
      organizationName: organization.name,
      plan: organization.plan,
      connection: await this.connection(principal),
    };
  }

  async connection(principal: Principal): Promise<ConnectionView | null> {
    const status = await this.connections.getStatus(principal.organizationId);
    if (!status) return null;
    const { connection, verifiedDomains } = status;
    return {
      tenantId: connection.tenantId,
      tenantName: connection.tenantName,
      status: connection.status,
      connectedAt: connection.connectedAt.toISOString(),
      verifiedDomains: verifiedDomains.map((domain) => domain.name),
    };
  }
}
