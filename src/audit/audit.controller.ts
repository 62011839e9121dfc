import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Auth, CurrentPrincipal, Roles } from '../common/auth.decorators.js';
import type { Principal } from '../common/principal.js';
import { AuditService } from './audit.service.js';
import { AuditEventPageDto, ListAuditEventsQueryDto, toAuditEventResponse } from './dto/audit-event.dto.js';
import { ApiErrors } from '../common/api-errors.decorator.js';
import { ValidationFailedError } from '../common/domain-error.js';
import { InvalidCursorError } from '../common/pagination.js';

@ApiTags('audit')
@Controller('api/v1/audit-events')
@Auth('session')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @Roles('owner', 'admin')
  @ApiOperation({
    operationId: 'listAuditEvents',
    summary: 'List the organization’s audit trail, newest first',
    description:
      'Who did what in the organization (sign-ins, role changes, deactivations, settings), newest first, filtered by action or target. Owner/Admin only.',
  })
  @ApiOkResponse({ type: AuditEventPageDto, description: 'A page of audit events.' })
  @ApiErrors(ValidationFailedError, InvalidCursorError)
  async list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ListAuditEventsQueryDto,
  ): Promise<AuditEventPageDto> {
    const page = await this.audit.list(principal.organizationId, query);
    return { items: page.items.map(toAuditEventResponse), nextCursor: page.nextCursor };
  }
}
