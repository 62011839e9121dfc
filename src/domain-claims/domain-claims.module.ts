import { Module } from '@nestjs/common';
import { DomainClaimsRepository } from './domain-claims.repository.js';
import { DomainClaimsService } from './domain-claims.service.js';

@Module({
  providers: [DomainClaimsRepository, DomainClaimsService],
  exports: [DomainClaimsService],
})
export class DomainClaimsModule {}
