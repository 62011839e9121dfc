import { Module } from '@nestjs/common';
import { GraphClient } from './graph.client.js';
import { MicrosoftIdentityClient } from './microsoft-identity.client.js';

/** The only module that speaks HTTP to Microsoft. */
@Module({
  providers: [MicrosoftIdentityClient, GraphClient],
  exports: [MicrosoftIdentityClient, GraphClient],
})
export class MicrosoftModule {}
