import { ApiProperty } from '@nestjs/swagger';
import { ApiEventSource } from '../../events/dto/event.dto.js';
import { EntraIntegrationResponseDto } from './entra-integration.dto.js';

/** `data` of every `integration.*` event, version 1. */
export class IntegrationEventDataDto {
  @ApiProperty({
    type: EntraIntegrationResponseDto,
    description:
      'The integration after the change, as `GET /api/v1/integrations/entra` shows it (after a disconnect: ' +
      '`status` `not_connected`).',
  })
  integration: EntraIntegrationResponseDto;

  @ApiProperty({
    format: 'uuid',
    description: 'The Entra tenant connected, disconnected or needing reauthorization.',
    example: '7b3c9d4e-1a2f-4c5d-8e9f-0a1b2c3d4e5f',
  })
  tenantId: string;

  @ApiProperty({
    enum: ['connected', 'disconnected', 'reauthorization_required'],
    description: 'What happened to the connection (the event type without its family).',
    example: 'connected',
  })
  status: string;

  @ApiEventSource('manual')
  source: string;
}
