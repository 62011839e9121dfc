import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors.decorator.js';
import { Auth, CurrentPrincipal, Roles, Scopes } from '../common/auth.decorators.js';
import { COMMON_ERRORS, ValidationFailedError } from '../common/domain-error.js';
import { InvalidCursorError, PageQueryDto } from '../common/pagination.js';
import type { Principal } from '../common/principal.js';
import { UuidParam } from '../common/uuid-param.js';
import {
  CreateWebhookDto,
  RollWebhookSecretDto,
  toDeliveryResponse,
  toWebhookResponse,
  UpdateWebhookDto,
  WebhookDeliveryDto,
  WebhookDeliveryPageDto,
  WebhookListDto,
  WebhookResponseDto,
  WebhookWithSecretDto,
} from './dto/webhook.dto.js';
import {
  WebhookDeliveryNotFoundError,
  WebhookDeliveryPendingError,
  WebhookNotFoundError,
  WebhookUrlRefusedError,
} from './webhooks.errors.js';
import { WebhooksService } from './webhooks.service.js';

const BODY_ERRORS = [ValidationFailedError, COMMON_ERRORS.MALFORMED_JSON, WebhookUrlRefusedError] as const;

@ApiTags('webhooks')
@Controller('api/v1/webhooks')
@Auth('session')
@Roles('owner', 'admin')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post()
  @ApiErrors(...BODY_ERRORS)
  @Scopes('webhooks:manage')
  @ApiOperation({
    operationId: 'createWebhook',
    summary: 'Create a webhook endpoint',
    description:
      'Events of the given types are POSTed to the URL as `{id, type, timestamp, data}` (the events feed’s ' +
      'envelope), signed per the Standard Webhooks specification with the secret returned here once.',
  })
  @ApiCreatedResponse({
    type: WebhookWithSecretDto,
    description: 'The new endpoint, with its signing secret (shown this once).',
  })
  async create(
    @CurrentPrincipal() principal: Principal,
    @Body() body: CreateWebhookDto,
  ): Promise<WebhookWithSecretDto> {
    const { endpoint, secret } = await this.webhooks.create(principal, body);
    return { ...toWebhookResponse(endpoint), secret };
  }

  @Get()
  @Scopes('webhooks:manage')
  @ApiOperation({
    operationId: 'listWebhooks',
    summary: 'List the organization’s webhook endpoints',
    description:
      'Every webhook endpoint of the organization, with its event types and state; never its secret.',
  })
  @ApiOkResponse({ type: WebhookListDto, description: 'The endpoints.' })
  async list(@CurrentPrincipal() principal: Principal): Promise<WebhookListDto> {
    return { items: (await this.webhooks.list(principal.organizationId)).map(toWebhookResponse) };
  }

  @Get(':id')
  @ApiErrors(WebhookNotFoundError)
  @Scopes('webhooks:manage')
  @ApiOperation({
    operationId: 'getWebhook',
    summary: 'Get one webhook endpoint',
    description:
      'One webhook endpoint of the organization (never its secret); another organization’s is a 404.',
  })
  @ApiOkResponse({ type: WebhookResponseDto, description: 'The endpoint.' })
  async get(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', WebhookNotFoundError) id: string,
  ): Promise<WebhookResponseDto> {
    return toWebhookResponse(await this.webhooks.get(principal.organizationId, id));
  }

  @Patch(':id')
  @ApiErrors(WebhookNotFoundError, ...BODY_ERRORS)
  @Scopes('webhooks:manage')
  @ApiOperation({
    operationId: 'updateWebhook',
    summary: 'Change a webhook’s URL, event types or enabled state',
    description:
      'Changes only the fields sent. A new URL is checked like at creation; `enabled: true` re-enables an ' +
      'endpoint the service disabled after failing deliveries.',
  })
  @ApiOkResponse({ type: WebhookResponseDto, description: 'The changed endpoint.' })
  async update(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', WebhookNotFoundError) id: string,
    @Body() body: UpdateWebhookDto,
  ): Promise<WebhookResponseDto> {
    return toWebhookResponse(await this.webhooks.update(principal, id, body));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiErrors(WebhookNotFoundError)
  @Scopes('webhooks:manage')
  @ApiOperation({
    operationId: 'deleteWebhook',
    summary: 'Delete a webhook endpoint and its delivery log',
    description: 'Nothing more is delivered to the endpoint; its delivery log goes with it.',
  })
  @ApiNoContentResponse({ description: 'Deleted; pending deliveries are dropped.' })
  async remove(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', WebhookNotFoundError) id: string,
  ): Promise<void> {
    await this.webhooks.remove(principal, id);
  }

  @Post(':id/secret/roll')
  @HttpCode(200)
  @ApiErrors(WebhookNotFoundError, ValidationFailedError, COMMON_ERRORS.MALFORMED_JSON)
  @Scopes('webhooks:manage')
  @ApiOperation({
    operationId: 'rollWebhookSecret',
    summary: 'Roll the signing secret',
    description:
      'The new secret (shown once) signs from now on; the previous one keeps signing too for `overlapHours`, ' +
      'so `webhook-signature` carries both until then.',
  })
  @ApiOkResponse({
    type: WebhookWithSecretDto,
    description: 'The endpoint, with its new secret (shown this once).',
  })
  async roll(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', WebhookNotFoundError) id: string,
    @Body() body: RollWebhookSecretDto,
  ): Promise<WebhookWithSecretDto> {
    const { endpoint, secret } = await this.webhooks.rollSecret(principal, id, body.overlapHours);
    return { ...toWebhookResponse(endpoint), secret };
  }

  @Get(':id/deliveries')
  @ApiErrors(WebhookNotFoundError, ValidationFailedError, InvalidCursorError)
  @Scopes('webhooks:manage')
  @ApiOperation({
    operationId: 'listWebhookDeliveries',
    summary: 'The delivery log of a webhook, newest first',
    description:
      'Each delivery to the endpoint: its status, attempts, the last response’s status, first kilobyte and ' +
      'duration, and when the next attempt is due.',
  })
  @ApiOkResponse({ type: WebhookDeliveryPageDto, description: 'A page of deliveries.' })
  async deliveries(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', WebhookNotFoundError) id: string,
    @Query() query: PageQueryDto,
  ): Promise<WebhookDeliveryPageDto> {
    const page = await this.webhooks.listDeliveries(principal.organizationId, id, query);
    return { items: page.items.map(toDeliveryResponse), nextCursor: page.nextCursor };
  }

  @Post(':id/deliveries/:deliveryId/retry')
  @HttpCode(202)
  @ApiErrors(WebhookNotFoundError, WebhookDeliveryNotFoundError, WebhookDeliveryPendingError)
  @Scopes('webhooks:manage')
  @ApiOperation({
    operationId: 'retryWebhookDelivery',
    summary: 'Deliver a finished delivery again, now',
    description:
      'Queues one more attempt of a delivery that succeeded or gave up, with the same `webhook-id`; a delivery ' +
      'still being retried is a 409.',
  })
  @ApiAcceptedResponse({ type: WebhookDeliveryDto, description: 'The delivery, queued for another attempt.' })
  async retry(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', WebhookNotFoundError) id: string,
    @UuidParam('deliveryId', WebhookDeliveryNotFoundError) deliveryId: string,
  ): Promise<WebhookDeliveryDto> {
    return toDeliveryResponse(await this.webhooks.retry(principal, id, deliveryId));
  }

  @Post(':id/test')
  @HttpCode(202)
  @ApiErrors(WebhookNotFoundError)
  @Scopes('webhooks:manage')
  @ApiOperation({
    operationId: 'testWebhook',
    summary: 'Send a webhook.ping event to the endpoint',
    description: 'Delivered like any event (signed, retried, logged); it is not part of the events feed.',
  })
  @ApiAcceptedResponse({ type: WebhookDeliveryDto, description: 'The ping’s delivery, queued.' })
  async test(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', WebhookNotFoundError) id: string,
  ): Promise<WebhookDeliveryDto> {
    return toDeliveryResponse(await this.webhooks.test(principal, id));
  }
}
