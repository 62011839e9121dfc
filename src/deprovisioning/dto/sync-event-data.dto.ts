import { ApiProperty } from '@nestjs/swagger';
import { EVENT_SOURCE_DOC } from '../../events/dto/event.dto.js';
import { EVENT_SOURCES } from '../../events/event-types.js';
import { SyncRunResponseDto } from './sync-run.dto.js';

/** `data` of every `sync.*` event, version 1. */
export class SyncEventDataDto {
  @ApiProperty({
    type: SyncRunResponseDto,
    description: 'The run as `GET /api/v1/integrations/entra/sync-runs/{id}` shows it.',
  })
  run: SyncRunResponseDto;

  @ApiProperty({
    enum: EVENT_SOURCES,
    enumName: 'EventSource',
    description: EVENT_SOURCE_DOC,
    example: 'sync',
  })
  source: string;
}
