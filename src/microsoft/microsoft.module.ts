import { Module } from '@nestjs/common';
import { MicrosoftIdentityClient } from './microsoft-identity.client.js';

/** The only module that speaks HTTP to Microsoft. */
@Module({ providers: [MicrosoftIdentityClient], exports: [MicrosoftIdentityClient] })
export class MicrosoftModule {}
