import { ApiProperty } from '@nestjs/swagger';
import { ApiEventSource } from '../../../events/dto/event.dto.js';
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

  @ApiEventSource('manual')
  source: string;
}

/** `data` of `scim.enabled` and `scim.disabled`, version 1. */
export class ScimSettingsEventDataDto {
  @ApiProperty({
    type: ScimSettingsResponseDto,
    description: 'The SCIM settings after the change, as `PATCH /api/v1/integrations/scim/settings` answers.',
  })
  settings: ScimSettingsResponseDto;

  @ApiEventSource('manual')
  source: string;
}
