import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class FieldErrorDto {
  @ApiProperty({ example: 'role' })
  field: string;

  @ApiProperty({ example: 'role must be one of the following values: admin, manager, employee' })
  message: string;
}

/** RFC 9457 problem details, as every error of this API is rendered (`application/problem+json`). */
export class ProblemDocumentDto {
  @ApiProperty({ example: 'urn:problem-type:last-owner', description: 'A URI identifying the problem type.' })
  type: string;

  @ApiProperty({ example: 'Conflict' })
  title: string;

  @ApiProperty({ example: 409 })
  status: number;

  @ApiProperty({ example: 'The organization must keep at least one active owner.' })
  detail: string;

  @ApiProperty({ example: 'LAST_OWNER', description: 'Stable, machine-readable error code. Branch on this.' })
  code: string;

  @ApiPropertyOptional({ example: '/api/v1/users/0f1e...' })
  instance?: string;

  @ApiPropertyOptional({ description: 'Correlates with the `x-request-id` response header and the logs.' })
  requestId?: string;

  @ApiPropertyOptional({ type: [FieldErrorDto], description: 'Per-field problems, for `VALIDATION_FAILED`.' })
  errors?: FieldErrorDto[];
}
