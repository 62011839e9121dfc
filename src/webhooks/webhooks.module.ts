import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { EventsModule } from '../events/events.module.js';
import { resolveKeyring, TokenCipher } from '../integrations/token-cipher.js';
import { WebhookQueue } from './webhook-queue.service.js';
import { WebhooksController } from './webhooks.controller.js';
import { WebhooksRepository } from './webhooks.repository.js';
import { WEBHOOK_SECRET_CIPHER, WebhooksService } from './webhooks.service.js';

/** Webhook endpoints, their signed deliveries from the PostgreSQL job queue, and the delivery log. */
@Module({
  imports: [AuditModule, EventsModule],
  controllers: [WebhooksController],
  providers: [
    WebhooksRepository,
    WebhooksService,
    WebhookQueue,
    {
      // The signing secrets are encrypted at rest under the same keyring as the Microsoft tokens.
      provide: WEBHOOK_SECRET_CIPHER,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => new TokenCipher(resolveKeyring(config)),
    },
  ],
})
export class WebhooksModule {}
