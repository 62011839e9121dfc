import { Injectable } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { ENTRA_DISCONNECTED, type EntraDisconnectedEvent } from '../integrations/entra-connection.events.js';
import { DeprovisioningRepository } from './deprovisioning.repository.js';

/**
 * A disconnect ends what the sync knew about the tenant: a delta link kept across it would resume a round of a
 * grant that no longer exists (or of another emulator or tenant), and a reconnect must read the directory in
 * full. Runs inside the disconnect's transaction.
 */
@Injectable()
export class SyncStateResetListener {
  constructor(private readonly repository: DeprovisioningRepository) {}

  @OnEvent(ENTRA_DISCONNECTED, { promisify: true, suppressErrors: false })
  async onDisconnected(event: EntraDisconnectedEvent): Promise<void> {
    await this.repository.deleteStates(event.organizationId);
  }
}
