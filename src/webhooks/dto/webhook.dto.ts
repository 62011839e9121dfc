import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsInt,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { PageInfoDto } from '../../common/pagination.js';
import {
  DELIVERY_STATUSES,
  type DeliveryStatus,
  type WebhookDeliveryEntity,
} from '../entities/webhook-delivery.entity.js';
import type { WebhookEndpointEntity } from '../entities/webhook-endpoint.entity.js';

const EVENT_TYPES_DOC =
  'Event types to deliver: exact types (`user.deactivated`), families (`user.*`) or `*` for all. An unknown type ' +
  'is a 400.';

const STATUS_DOC =
  '`pending` while attempts are due (retried with back-off), `succeeded` once the endpoint answered 2xx, ' +
  '`failed` once it gave up.';

export class CreateWebhookDto {
  @ApiProperty({
    description: 'Where to POST events: https, resolving to public addresses only.',
    example: 'https://hr.example.com/hooks/entra',
    maxLength: 2000,
  })
  @IsString()
  @MaxLength(2000)
  url: string;

  @ApiProperty({ description: EVENT_TYPES_DOC, example: ['user.*', 'sync.failed'], type: [String] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @ArrayUnique()
  @IsString({ each: true })
  @MaxLength(100, { each: true })
  eventTypes: string[];

  @ApiPropertyOptional({ description: 'Whether events are delivered (default true).', example: true })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional({ description: 'What the endpoint is for.', example: 'HR system', maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  description?: string;
}

export class UpdateWebhookDto {
  @ApiPropertyOptional({
    description: 'A new URL to POST events to; checked like at creation.',
    example: 'https://hr.example.com/hooks/entra-v2',
    maxLength: 2000,
  })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  url?: string;

  @ApiPropertyOptional({ description: EVENT_TYPES_DOC, example: ['user.*'], type: [String] })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @ArrayUnique()
  @IsString({ each: true })
  @MaxLength(100, { each: true })
  eventTypes?: string[];

  @ApiPropertyOptional({
    description: 'Enabling an endpoint the service disabled (after sustained failure) clears that.',
    example: true,
  })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional({ description: 'What the endpoint is for.', example: 'HR system', maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  description?: string;
}

export class RollWebhookSecretDto {
  @ApiPropertyOptional({
    description: 'How long the previous secret keeps signing too, so receivers can switch (default 24).',
    example: 24,
    minimum: 0,
    maximum: 168,
    type: 'integer',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(168)
  overlapHours?: number;
}

export class WebhookResponseDto {
  @ApiProperty({
    format: 'uuid',
    description: 'The endpoint’s id.',
    example: '5d2b8e7a-3f4c-4a1b-9c6d-7e8f9a0b1c2d',
  })
  id: string;

  @ApiProperty({ description: 'Where events are POSTed.', example: 'https://hr.example.com/hooks/entra' })
  url: string;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'What the endpoint is for.',
    example: 'HR system',
  })
  description: string | null;

  @ApiProperty({
    type: [String],
    description: 'The event types delivered: exact types, `family.*` or `*`.',
    example: ['user.*', 'sync.failed'],
  })
  eventTypes: string[];

  @ApiProperty({
    description: 'Whether events are delivered; see `disabledReason` when it is false.',
    example: true,
  })
  enabled: boolean;

  @ApiProperty({
    type: String,
    nullable: true,
    enum: ['failing'],
    description: '`failing` when the service disabled it after deliveries kept failing for days.',
    example: null,
  })
  disabledReason: string | null;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'Until when the previous secret also signs (after a roll).',
    example: '2026-12-02T09:30:00.000Z',
  })
  previousSecretExpiresAt: string | null;

  @ApiProperty({
    format: 'date-time',
    description: 'When it was created.',
    example: '2026-12-01T09:30:00.000Z',
  })
  createdAt: string;

  @ApiProperty({
    format: 'date-time',
    description: 'When it last changed (including a secret roll).',
    example: '2026-12-01T09:30:00.000Z',
  })
  updatedAt: string;
}

export class WebhookWithSecretDto extends WebhookResponseDto {
  @ApiProperty({
    description:
      'The signing secret, shown this once: give it to the `standardwebhooks` library of the receiver.',
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  })
  secret: string;
}

export class WebhookListDto {
  @ApiProperty({ type: [WebhookResponseDto], description: 'The organization’s webhook endpoints.' })
  items: WebhookResponseDto[];
}

export class WebhookDeliveryDto {
  @ApiProperty({
    format: 'uuid',
    description: 'The delivery’s id (for `.../deliveries/{deliveryId}/retry`).',
    example: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
  })
  id: string;

  @ApiProperty({
    format: 'uuid',
    description: 'The `webhook-id` of every attempt (the event id).',
    example: '0b9f3a52-6c1d-4e8a-9f27-3d5b8c1e4a60',
  })
  messageId: string;

  @ApiProperty({
    description: 'The type of the event delivered (`webhook.ping` for a test).',
    example: 'user.deactivated',
  })
  eventType: string;

  @ApiProperty({
    enum: DELIVERY_STATUSES,
    enumName: 'WebhookDeliveryStatus',
    description: STATUS_DOC,
    example: 'succeeded',
  })
  status: DeliveryStatus;

  @ApiProperty({ type: 'integer', description: 'Attempts made so far.', example: 2 })
  attempts: number;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'When the last attempt was made; null before the first.',
    example: '2026-12-01T09:30:05.000Z',
  })
  lastAttemptAt: string | null;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'When the next attempt is due; null once the delivery succeeded or gave up.',
    example: null,
  })
  nextAttemptAt: string | null;

  @ApiProperty({
    type: 'integer',
    nullable: true,
    description: 'The HTTP status the endpoint answered the last attempt with; null without an answer.',
    example: 200,
  })
  responseStatus: number | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The first kilobyte of the last response.',
    example: 'ok',
  })
  responseBody: string | null;

  @ApiProperty({ type: 'integer', nullable: true, description: 'Of the last attempt.', example: 84 })
  durationMs: number | null;

  @ApiProperty({
    type: String,
    nullable: true,
    enum: ['timeout', 'address_refused', 'connection_failed', 'endpoint_disabled'],
    description: 'Why the last attempt got no response.',
    example: null,
  })
  error: string | null;

  @ApiProperty({
    format: 'date-time',
    description: 'When the delivery was created (with its event).',
    example: '2026-12-01T09:30:00.000Z',
  })
  createdAt: string;
}

export class WebhookDeliveryPageDto extends PageInfoDto {
  @ApiProperty({ type: [WebhookDeliveryDto], description: 'Newest first.' })
  items: WebhookDeliveryDto[];
}

export function toWebhookResponse(endpoint: WebhookEndpointEntity): WebhookResponseDto {
  return {
    id: endpoint.id,
    url: endpoint.url,
    description: endpoint.description,
    eventTypes: endpoint.eventTypes,
    enabled: endpoint.enabled,
    disabledReason: endpoint.disabledReason,
    previousSecretExpiresAt:
      endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt > new Date()
        ? endpoint.previousSecretExpiresAt.toISOString()
        : null,
    createdAt: endpoint.createdAt.toISOString(),
    updatedAt: endpoint.updatedAt.toISOString(),
  };
}

export function toDeliveryResponse(delivery: WebhookDeliveryEntity): WebhookDeliveryDto {
  return {
    id: delivery.id,
    messageId: delivery.messageId,
    eventType: delivery.eventType,
    status: delivery.status,
    attempts: delivery.attempts,
    lastAttemptAt: delivery.lastAttemptAt?.toISOString() ?? null,
    nextAttemptAt: delivery.nextAttemptAt?.toISOString() ?? null,
    responseStatus: delivery.responseStatus,
    responseBody: delivery.responseBody,
    durationMs: delivery.durationMs,
    error: delivery.error,
    createdAt: delivery.createdAt.toISOString(),
  };
}
