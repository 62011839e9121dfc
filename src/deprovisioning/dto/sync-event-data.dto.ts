import { ApiProperty } from '@nestjs/swagger';
import { ApiEventSource } from '../../events/dto/event.dto.js';
import { SyncRunResponseDto } from './sync-run.dto.js';

/** `data` of every `sync.*` event, version 1. */
export class SyncEventDataDto {
  @ApiProperty({
    type: SyncRunResponseDto,
    description: 'The run as `GET /api/v1/integrations/entra/sync-runs/{id}` shows it.',
  })
  run: SyncRunResponseDto;

  @ApiEventSource('sync')
  source: string;
}
