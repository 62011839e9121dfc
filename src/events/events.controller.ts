import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors.decorator.js';
import { Auth, CurrentPrincipal, Roles, Scopes } from '../common/auth.decorators.js';
import { ValidationFailedError } from '../common/domain-error.js';
import type { Principal } from '../common/principal.js';
import { EventPageDto, ListEventsQueryDto, toEventResponse } from './dto/event.dto.js';
import { InvalidEventCursorError } from './events.errors.js';
import { EventsService } from './events.service.js';

@ApiTags('events')
@Controller('api/v1/events')
@Auth('session')
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Get()
  @Roles('owner', 'admin')
  @ApiErrors(ValidationFailedError, InvalidEventCursorError)
  @Scopes('events:read')
  @ApiOperation({
    operationId: 'listEvents',
    summary: 'Poll the organization’s events, oldest first',
    description:
      'Every change an integrator cares about, recorded in the transaction of the change and kept 30 days. ' +
      'Poll with the last `nextCursor` as `after`; deduplicate on `id`. The same envelopes are the bodies of ' +
      'webhook deliveries.',
  })
  @ApiOkResponse({ type: EventPageDto, description: 'A page of events and the cursor to poll with next.' })
  async list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ListEventsQueryDto,
  ): Promise<EventPageDto> {
    const page = await this.events.list(principal.organizationId, query);
    return { items: page.items.map(toEventResponse), nextCursor: page.nextCursor, hasMore: page.hasMore };
  }
}
