import { Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Auth, CurrentPrincipal, RequiresPlan, Roles } from '../common/auth.decorators.js';
import { InvalidCursorError, PageQueryDto } from '../common/pagination.js';
import type { Principal } from '../common/principal.js';
import {
  ListOutcomesQueryDto,
  StartSyncQueryDto,
  SyncOutcomePageDto,
  SyncRunPageDto,
  SyncRunResponseDto,
  toOutcomeResponse,
  toSyncRunResponse,
} from './dto/sync-run.dto.js';
import { SyncRunsService } from './sync-runs.service.js';
import { ApiErrors } from '../common/api-errors.decorator.js';
import {
  DeprovisioningDisabledError,
  SyncInProgressError,
  SyncRunNotAwaitingApprovalError,
  SyncRunNotFoundError,
} from './deprovisioning.errors.js';
import { ValidationFailedError } from '../common/domain-error.js';
import {
  EntraNotConnectedError,
  EntraReauthorizationRequiredError,
} from '../integrations/integrations.errors.js';
import { UuidParam } from '../common/uuid-param.js';

@ApiTags('deprovisioning')
@Controller('api/v1/integrations/entra')
@Auth('session')
@Roles('owner', 'admin')
@RequiresPlan('enterprise')
export class DeprovisioningController {
  constructor(private readonly runs: SyncRunsService) {}

  @Post('sync')
  @HttpCode(202)
  @ApiOperation({
    operationId: 'startEntraSync',
    summary: 'Sync now: deactivate users whose Entra account is disabled or deleted',
    description:
      'Queues a directory sync and returns the run (poll it for progress). Deactivation is never deletion. A run ' +
      'that would deactivate more than the safety threshold applies nothing and waits for approval. With ' +
      '`dryRun=true` it only computes who would be deactivated (allowed even while auto-deprovisioning is off).',
  })
  @ApiAcceptedResponse({
    type: SyncRunResponseDto,
    description: 'The run is queued; follow it with `GET …/sync-runs/{id}`.',
  })
  @ApiErrors(
    SyncInProgressError,
    EntraNotConnectedError,
    EntraReauthorizationRequiredError,
    DeprovisioningDisabledError,
  )
  async start(
    @CurrentPrincipal() principal: Principal,
    @Query() query: StartSyncQueryDto,
  ): Promise<SyncRunResponseDto> {
    return toSyncRunResponse(await this.runs.requestSync(principal, query.dryRun ?? false));
  }

  @Get('sync-runs')
  @ApiOperation({
    operationId: 'listEntraSyncRuns',
    summary: 'List sync runs, newest first',
    description: 'The organization’s directory sync runs, newest first, with their counts and status.',
  })
  @ApiOkResponse({ type: SyncRunPageDto, description: 'A page of sync runs.' })
  @ApiErrors(ValidationFailedError, InvalidCursorError)
  async list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: PageQueryDto,
  ): Promise<SyncRunPageDto> {
    const page = await this.runs.list(principal.organizationId, query);
    return { items: page.items.map(toSyncRunResponse), nextCursor: page.nextCursor };
  }

  @Get('sync-runs/:id')
  @ApiOperation({
    operationId: 'getEntraSyncRun',
    summary: 'One sync run: status, progress, counts, error',
    description:
      'One sync run: status, progress while it runs, counts, and why it failed or waits for approval.',
  })
  @ApiOkResponse({ type: SyncRunResponseDto, description: 'The sync run.' })
  @ApiErrors(SyncRunNotFoundError)
  async get(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', SyncRunNotFoundError) id: string,
  ): Promise<SyncRunResponseDto> {
    return toSyncRunResponse(await this.runs.get(principal.organizationId, id));
  }

  @Get('sync-runs/:id/outcomes')
  @ApiOperation({
    operationId: 'listEntraSyncRunOutcomes',
    summary: 'Per-user outcomes of a run, with reasons',
    description:
      'Per user, what a run did or plans to do (for an `awaiting_approval` run: who would be deactivated), filtered by outcome.',
  })
  @ApiOkResponse({ type: SyncOutcomePageDto, description: 'A page of outcomes.' })
  @ApiErrors(SyncRunNotFoundError)
  async outcomes(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', SyncRunNotFoundError) id: string,
    @Query() query: ListOutcomesQueryDto,
  ): Promise<SyncOutcomePageDto> {
    const page = await this.runs.outcomes(principal.organizationId, id, query);
    return { items: page.items.map(toOutcomeResponse), nextCursor: page.nextCursor };
  }

  @Post('sync-runs/:id/approve')
  @HttpCode(202)
  @ApiOperation({
    operationId: 'approveEntraSyncRun',
    summary: 'Apply a plan held back by the safety threshold',
    description:
      'Queues the stored plan and returns the run (`queued`, then `running`; poll it until it ends). Until it ' +
      'ends it is the organization’s active run: another sync answers `SYNC_IN_PROGRESS`. Each user is checked ' +
      'again (still active here, still disabled or deleted in Entra) before deactivation.',
  })
  @ApiAcceptedResponse({
    type: SyncRunResponseDto,
    description: 'Approved: the run is queued again and a worker applies the stored plan.',
  })
  @ApiErrors(SyncRunNotFoundError, SyncRunNotAwaitingApprovalError, SyncInProgressError)
  async approve(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', SyncRunNotFoundError) id: string,
  ): Promise<SyncRunResponseDto> {
    return toSyncRunResponse(await this.runs.approve(principal, id));
  }

  @Post('sync-runs/:id/reject')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'rejectEntraSyncRun',
    summary: 'Discard a plan held back by the safety threshold',
    description:
      'Discards the plan of a run waiting for approval: nobody is deactivated and the run ends as `rejected`.',
  })
  @ApiOkResponse({ type: SyncRunResponseDto, description: 'The rejected run.' })
  @ApiErrors(SyncRunNotFoundError, SyncRunNotAwaitingApprovalError, SyncInProgressError)
  async reject(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', SyncRunNotFoundError) id: string,
  ): Promise<SyncRunResponseDto> {
    return toSyncRunResponse(await this.runs.reject(principal, id));
  }
}
