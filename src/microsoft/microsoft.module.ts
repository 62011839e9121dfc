import { Module } from '@nestjs/common';
import { DirectoryClient } from './directory.client.js';
import { GraphClient } from './graph.client.js';
import { MicrosoftIdentityClient } from './microsoft-identity.client.js';

/** The only module that speaks HTTP to Microsoft. */
@Module({
  providers: [MicrosoftIdentityClient, GraphClient, DirectoryClient],
  exports: [MicrosoftIdentityClient, GraphClient, DirectoryClient],
})
export class MicrosoftModule {}
