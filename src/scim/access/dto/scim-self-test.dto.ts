import { ApiProperty } from '@nestjs/swagger';
import { SELF_TEST_STEPS, type SelfTestStepName } from '../scim-self-test.service.js';

export class ScimSelfTestStepDto {
  @ApiProperty({
    enum: SELF_TEST_STEPS,
    enumName: 'ScimSelfTestStep',
    description:
      'Which request: Entra’s Test Connection (`test_connection`), then what a first cycle does to one user.',
    example: 'test_connection',
  })
  name: SelfTestStepName;

  @ApiProperty({ description: 'The HTTP method sent.', example: 'GET' })
  method: string;

  @ApiProperty({
    description: 'The path sent, below the Tenant URL.',
    example: '/Users?filter=userName%20eq%20%22f2b8c1d4-6a3e-4b5f-9c7d-1e2f3a4b5c6d%22',
  })
  path: string;

  @ApiProperty({
    type: 'integer',
    nullable: true,
    description: 'The status answered; null when no answer came.',
    example: 200,
  })
  status: number | null;

  @ApiProperty({ description: 'Whether the answer is what Entra expects.', example: true })
  ok: boolean;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'What was wrong with the answer, if anything.',
    example: null,
  })
  detail: string | null;

  @ApiProperty({ type: 'integer', description: 'How long the answer took, in milliseconds.', example: 9 })
  durationMs: number;
}

export class ScimSelfTestResultDto {
  @ApiProperty({ description: 'Whether every step answered as Entra expects.', example: true })
  ok: boolean;

  @ApiProperty({
    type: [ScimSelfTestStepDto],
    description: 'The steps run, in order; the run stops at the first that fails.',
  })
  steps: ScimSelfTestStepDto[];
}
