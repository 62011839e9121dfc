import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class FieldErrorDto {
  @ApiProperty({ example: 'role', description: 'The offending field, as a dotted path into the request.' })
  field: string;

  @ApiProperty({
    example: 'role must be one of the following values: admin, manager, employee',
    description: 'What is wrong with it.',
  })
  message: string;
}

/**
 * RFC 9457 problem details, as every error of this API is rendered (`application/problem+json`). Besides the
 * standard members, some codes carry extension members, listed here so that generated clients can read them.
 * The examples of each operation's error responses show a problem of that status and code; the property
 * examples below are deliberately neutral.
 */
export class ProblemDocumentDto {
  @ApiProperty({
    example: 'urn:problem-type:validation-failed',
    description: 'A URI identifying the problem type: `urn:problem-type:` and the code in kebab-case.',
  })
  type: string;

  @ApiProperty({ example: 'Bad request', description: 'The HTTP status in words.' })
  title: string;

  @ApiProperty({ type: 'integer', example: 400, description: 'The HTTP status code of this answer.' })
  status: number;

  @ApiProperty({
    example: 'The request is not valid.',
    description: 'What went wrong in this case, for a person; never parse it (branch on `code`).',
  })
  detail: string;

  @ApiProperty({
    example: 'VALIDATION_FAILED',
    description: 'Stable, machine-readable error code. Branch on this.',
  })
  code: string;

  @ApiPropertyOptional({ example: '/api/v1/users', description: 'The path of the request that failed.' })
  instance?: string;

  @ApiPropertyOptional({
    example: '3f2b8c1e-7a6d-4e59-9c0b-2d4e6f8a1b3c',
    description: 'Correlates with the `x-request-id` response header and the logs.',
  })
  requestId?: string;

  @ApiPropertyOptional({ type: [FieldErrorDto], description: 'Per-field problems, for `VALIDATION_FAILED`.' })
  errors?: FieldErrorDto[];

  @ApiPropertyOptional({
    enum: ['free', 'team', 'enterprise'],
    example: 'enterprise',
    description: '`PLAN_REQUIRED`: the plan the feature needs.',
  })
  requiredPlan?: string;

  @ApiPropertyOptional({
    enum: ['free', 'team', 'enterprise'],
    nullable: true,
    example: 'free',
    description: '`PLAN_REQUIRED`: the organization’s plan.',
  })
  currentPlan?: string | null;

  @ApiPropertyOptional({
    type: [String],
    example: ['owner', 'admin'],
    description: '`INSUFFICIENT_ROLE`: the roles that may do this.',
  })
  requiredRoles?: string[];

  @ApiPropertyOptional({
    type: [String],
    example: ['users:read'],
    description: '`INSUFFICIENT_SCOPE`: the scopes of this operation the API key lacks.',
  })
  requiredScopes?: string[];

  @ApiPropertyOptional({
    format: 'uuid',
    example: '8d3c1f0a-5b2e-4c7d-9a6f-1e2b3c4d5e6f',
    description: '`SYNC_IN_PROGRESS`: the sync run already queued or running.',
  })
  runId?: string;

  @ApiPropertyOptional({
    type: 'integer',
    example: 25,
    description: '`SEAT_LIMIT_REACHED`: the organization’s seat limit.',
  })
  seatLimit?: number;

  @ApiPropertyOptional({
    type: [String],
    example: ['contoso.com'],
    description: '`DOMAINS_CLAIMED`: the domains another organization of the tenant holds.',
  })
  domains?: string[];

  @ApiPropertyOptional({
    example: 'seat_limit_reached',
    description:
      '`SIGN_IN_REFUSED`: the sign-in code of the refusal (see `GET /auth/microsoft/callback`); ' +
      '`WEBHOOK_URL_REFUSED`: the rule the URL breaks (e.g. `must be https`).',
  })
  reason?: string;

  @ApiPropertyOptional({
    type: 'integer',
    example: 60,
    description:
      '`RATE_LIMITED`, `DATABASE_UNAVAILABLE`: seconds until a retry can succeed (also the `Retry-After` header).',
  })
  retryAfterSeconds?: number;

  @ApiPropertyOptional({
    format: 'uuid',
    example: '5c9e2a41-8f3b-4d6e-a7c0-b1d2e3f4a5b6',
    description: '`UNKNOWN_GROUP`: the group id the tenant does not have.',
  })
  groupId?: string;

  @ApiPropertyOptional({
    type: 'integer',
    example: 503,
    description: '`GRAPH_REQUEST_FAILED`: Microsoft Graph’s HTTP status (0: no answer).',
  })
  graphStatus?: number;

  @ApiPropertyOptional({
    example: 'serviceNotAvailable',
    description: '`GRAPH_REQUEST_FAILED`: Microsoft Graph’s error code.',
  })
  graphCode?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string', enum: ['up', 'down'] },
    example: { database: 'down' },
    description: '`NOT_READY`: each dependency the readiness check probes, and whether it answered.',
  })
  checks?: Record<string, 'up' | 'down'>;
}
