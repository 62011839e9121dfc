import { Module } from '@nestjs/common';
import { MicrosoftModule } from '../microsoft/microsoft.module.js';
import { AuthFlowsRepository } from './auth-flows.repository.js';
import { AuthFlowsService } from './auth-flows.service.js';

/** One way to run and finish a redirect to Microsoft (sign-in, tenant connect, admin verification). */
@Module({
  imports: [MicrosoftModule],
  providers: [AuthFlowsRepository, AuthFlowsService],
  exports: [AuthFlowsService],
})
export class AuthFlowsModule {}
