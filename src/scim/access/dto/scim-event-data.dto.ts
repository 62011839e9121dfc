import { ApiProperty } from '@nestjs/swagger';
import { EVENT_SOURCE_DOC } from '../../../events/dto/event.dto.js';
import { EVENT_SOURCES } from '../../../events/event-types.js';
import { ScimSettingsResponseDto } from './scim-status.dto.js';
import { ScimTokenResponseDto } from './scim-token.dto.js';

/** `data` of `scim.token_created` and `scim.token_revoked`, version 1. */
export class ScimTokenEventDataDto {
  @ApiProperty({
    type: ScimTokenResponseDto,
    description:
      'The token as `GET /api/v1/integrations/scim` lists it (never the secret itself); after a revocation, ' +
      'as it stood when revoked.',
  })
  token: ScimTokenResponseDto;

  @ApiProperty({
    enum: EVENT_SOURCES,
    enumName: 'EventSource',
    description: EVENT_SOURCE_DOC,
    example: 'manual',
  })
  source: string;
}

/** `data` of `scim.enabled` and `scim.disabled`, version 1. */
export class ScimSettingsEventDataDto {
  @ApiProperty({
    type: ScimSettingsResponseDto,
    description: 'The SCIM settings after the change, as `PATCH /api/v1/integrations/scim/settings` answers.',
  })
  settings: ScimSettingsResponseDto;

  @ApiProperty({
    enum: EVENT_SOURCES,
    enumName: 'EventSource',
    description: EVENT_SOURCE_DOC,
    example: 'manual',
  })
  source: string;
}
