import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { UsersModule } from '../users/users.module.js';
import { SessionStrategy } from './session.strategy.js';
import { SessionsController } from './sessions.controller.js';
import { SessionsRepository } from './sessions.repository.js';
import { SessionsService } from './sessions.service.js';

/** The API's own sessions: opaque tokens stored hashed, the session strategy of the global guard, cookies. */
@Module({
  imports: [AuditModule, UsersModule],
  controllers: [SessionsController],
  providers: [SessionsRepository, SessionsService, SessionStrategy],
  exports: [SessionsService],
})
export class SessionsModule {}
