import { ApiProperty } from '@nestjs/swagger';

export class LivenessDto {
  @ApiProperty({ enum: ['ok'], example: 'ok', description: 'Always `ok`: the process answers HTTP.' })
  status: 'ok';
}

export class ReadinessDto {
  @ApiProperty({ enum: ['ok'], example: 'ok', description: '`ok`: every dependency answered.' })
  status: 'ok';

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string', enum: ['up', 'down'] },
    example: { database: 'up' },
    description: 'Each dependency probed, and whether it answered.',
  })
  checks: Record<string, 'up' | 'down'>;
}
