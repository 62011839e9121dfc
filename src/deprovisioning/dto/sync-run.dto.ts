import { SYNC_RUN_FAILURES } from '../deprovisioning.errors.js';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsOptional } from 'class-validator';
import { PageInfoDto, PageQueryDto } from '../../common/pagination.js';
import {
  DEACTIVATION_REASONS,
  type DeactivationReason,
  SYNC_OUTCOMES,
  type SyncOutcome,
  type SyncRunOutcomeEntity,
} from '../entities/sync-run-outcome.entity.js';
import {
  SYNC_MODES,
  SYNC_STATUSES,
  SYNC_TRIGGERS,
  type SyncMode,
  type SyncRunEntity,
  type SyncStatus,
  type SyncTrigger,
} from '../entities/sync-run.entity.js';

export class StartSyncQueryDto {
  @ApiPropertyOptional({
    description: 'Compute the plan and apply nothing; the run lists who would be deactivated.',
  })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  dryRun?: boolean;
}

export class ListOutcomesQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    enum: SYNC_OUTCOMES,
    enumName: 'SyncOutcome',
    description: 'Only outcomes of this kind.',
  })
  @IsOptional()
  @IsIn(SYNC_OUTCOMES)
  outcome?: SyncOutcome;
}

export class SyncProgressDto {
  @ApiProperty({ type: 'integer', example: 1200, description: 'Directory users examined so far.' })
  checked: number;

  @ApiProperty({
    nullable: true,
    type: 'integer',
    example: 1200,
    description: 'All users to examine, once known (at the end of reading).',
  })
  total: number | null;
}

export class SyncCountsDto {
  @ApiProperty({ type: 'integer', example: 1200, description: 'Directory users examined.' })
  checked: number;

  @ApiProperty({ type: 'integer', example: 2, description: 'Users deactivated by this run.' })
  deactivated: number;

  @ApiProperty({
    type: 'integer',
    example: 5,
    description: 'Linked users disabled or deleted in Entra and already deactivated here (untouched).',
  })
  alreadyDeactivated: number;

  @ApiProperty({
    type: 'integer',
    example: 1150,
    description: 'Directory users not linked to a user of this organization (never touched).',
  })
  notLinked: number;

  @ApiProperty({
    type: 'integer',
    example: 0,
    description: 'Users the run could not process (see the outcomes, `skipped` with a `detail`).',
  })
  errors: number;

  @ApiProperty({
    type: 'integer',
    example: 2,
    description: 'Deactivations planned: applied, awaiting approval, or what a dry run would do.',
  })
  planned: number;
}

export class SyncRunResponseDto {
  @ApiProperty({ format: 'uuid', description: 'The run id.' })
  id: string;

  @ApiProperty({
    enum: SYNC_TRIGGERS,
    enumName: 'SyncTrigger',
    example: 'manual',
    description: 'What started it: the nightly schedule or "Sync now".',
  })
  trigger: SyncTrigger;

  @ApiProperty({ example: false, description: 'A preview: computes the plan and applies nothing.' })
  dryRun: boolean;

  @ApiProperty({
    enum: SYNC_STATUSES,
    enumName: 'SyncStatus',
    example: 'succeeded',
    description: 'Where the run stands; `awaiting_approval` when the plan exceeds the safety threshold.',
  })
  status: SyncStatus;

  @ApiProperty({
    // Inline rather than a named schema: OpenAPI 3.0 cannot mark a $ref nullable.
    type: 'string',
    enum: SYNC_MODES,
    nullable: true,
    example: 'full',
    description: 'Full round or changes only.',
  })
  mode: SyncMode | null;

  @ApiProperty({ type: SyncProgressDto, description: 'How far reading the directory has got.' })
  progress: SyncProgressDto;

  @ApiProperty({ type: SyncCountsDto, description: 'What the run found and did.' })
  counts: SyncCountsDto;

  @ApiProperty({
    nullable: true,
    type: 'integer',
    example: 120,
    description: 'Most deactivations this run could apply without approval (safety threshold).',
  })
  thresholdLimit: number | null;

  @ApiProperty({
    description: 'The run deactivated the organization’s last active owner (their Entra account is gone).',
  })
  lastOwnerDeactivated: boolean;

  @ApiProperty({
    nullable: true,
    type: 'string',
    enum: Object.keys(SYNC_RUN_FAILURES),
    example: null,
    description:
      'Why a failed run failed, e.g. `DIRECTORY_UNAVAILABLE`; null otherwise (nothing is applied when a run fails):\n' +
      Object.entries(SYNC_RUN_FAILURES)
        .map(([code, meaning]) => `- \`${code}\`: ${meaning}`)
        .join('\n'),
  })
  errorCode: string | null;

  @ApiProperty({
    nullable: true,
    type: String,
    example: null,
    description: 'What went wrong, for a person; null unless the run failed.',
  })
  errorMessage: string | null;

  @ApiProperty({
    nullable: true,
    type: String,
    format: 'uuid',
    description: 'Who pressed "Sync now"; null for the schedule.',
  })
  requestedByUserId: string | null;

  @ApiProperty({
    nullable: true,
    type: String,
    format: 'uuid',
    description: 'Who approved or rejected the plan.',
  })
  decidedByUserId: string | null;

  @ApiProperty({ format: 'date-time', description: 'When it was queued.' })
  createdAt: string;

  @ApiProperty({
    nullable: true,
    type: String,
    format: 'date-time',
    example: '2026-12-01T09:30:02.000Z',
    description: 'When a worker started it.',
  })
  startedAt: string | null;

  @ApiProperty({
    nullable: true,
    type: String,
    format: 'date-time',
    example: '2026-12-01T09:30:09.000Z',
    description: 'When it ended; null while queued, running or awaiting approval.',
  })
  finishedAt: string | null;
}

export class SyncRunPageDto extends PageInfoDto {
  @ApiProperty({ type: [SyncRunResponseDto], description: 'The runs of this page, newest first.' })
  items: SyncRunResponseDto[];
}

export class SyncOutcomeResponseDto {
  @ApiProperty({ format: 'uuid', description: 'The user of this organization concerned.' })
  userId: string;

  @ApiProperty({ format: 'uuid', description: 'Entra object id.' })
  objectId: string;

  @ApiProperty({
    enum: SYNC_OUTCOMES,
    enumName: 'SyncOutcome',
    description: '`planned`: would be (or waits to be) deactivated; `skipped`: not applied, see `detail`.',
  })
  outcome: SyncOutcome;

  @ApiProperty({
    enum: DEACTIVATION_REASONS,
    enumName: 'SyncDeactivationReason',
    example: 'entra_account_disabled',
    description: 'Why the directory says the user must go.',
  })
  reason: DeactivationReason;

  @ApiProperty({
    nullable: true,
    type: String,
    example: null,
    description: 'Why a `skipped` outcome was not applied; null otherwise.',
  })
  detail: string | null;
}

export class SyncOutcomePageDto extends PageInfoDto {
  @ApiProperty({ type: [SyncOutcomeResponseDto], description: 'The outcomes of this page.' })
  items: SyncOutcomeResponseDto[];
}

export function toSyncRunResponse(run: SyncRunEntity): SyncRunResponseDto {
  return {
    id: run.id,
    trigger: run.trigger,
    dryRun: run.dryRun,
    status: run.status,
    mode: run.mode,
    progress: { checked: run.progressChecked, total: run.progressTotal },
    counts: {
      checked: run.countChecked || run.progressChecked,
      deactivated: run.countDeactivated,
      alreadyDeactivated: run.countAlreadyDeactivated,
      notLinked: run.countNotLinked,
      errors: run.countErrors,
      planned: run.countPlanned,
    },
    thresholdLimit: run.thresholdLimit,
    lastOwnerDeactivated: run.lastOwnerDeactivated,
    errorCode: run.errorCode,
    errorMessage: run.errorMessage,
    requestedByUserId: run.requestedByUserId,
    decidedByUserId: run.decidedByUserId,
    createdAt: run.createdAt.toISOString(),
    startedAt: run.startedAt?.toISOString() ?? null,
    finishedAt: run.finishedAt?.toISOString() ?? null,
  };
}

export function toOutcomeResponse(outcome: SyncRunOutcomeEntity): SyncOutcomeResponseDto {
  return {
    userId: outcome.userId,
    objectId: outcome.objectId,
    outcome: outcome.outcome,
    reason: outcome.reason,
    detail: outcome.detail,
  };
}
