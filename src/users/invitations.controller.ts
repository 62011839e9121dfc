import { Body, Controller, Delete, Get, HttpCode, Post, Query } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { Auth, CurrentPrincipal, Roles } from '../common/auth.decorators.js';
import type { Principal } from '../common/principal.js';
import {
  CreateInvitationDto,
  InvitationPageDto,
  InvitationResponseDto,
  ListInvitationsQueryDto,
  toInvitationResponse,
} from './dto/invitation.dto.js';
import { InvitationsService } from './invitations.service.js';
import { ApiErrors } from '../common/api-errors.decorator.js';
import {
  InvitationAlreadyPendingError,
  InvitationNotFoundError,
  InvitationNotPendingError,
  UserAlreadyExistsError,
} from './invitations.errors.js';
import { ValidationFailedError } from '../common/domain-error.js';
import { InvalidCursorError } from '../common/pagination.js';
import { UuidParam } from '../common/uuid-param.js';

@ApiTags('invitations')
@Controller('api/v1/invitations')
@Auth('session')
export class InvitationsController {
  constructor(private readonly invitations: InvitationsService) {}

  @Post()
  @Roles('owner', 'admin')
  @ApiOperation({
    operationId: 'createInvitation',
    summary: 'Invite someone by address',
    description:
      'Accepted at their first Microsoft sign-in whose verified address matches (the UPN of a member account, or an ' +
      '`email` its domain owner verified). Expires after 7 days unless `expiresInDays` says otherwise.',
  })
  @ApiCreatedResponse({
    type: InvitationResponseDto,
    description: 'The invitation, pending until the first Microsoft sign-in with that address.',
  })
  @ApiErrors(ValidationFailedError, InvitationAlreadyPendingError, UserAlreadyExistsError)
  async create(
    @CurrentPrincipal() principal: Principal,
    @Body() body: CreateInvitationDto,
  ): Promise<InvitationResponseDto> {
    return toInvitationResponse(await this.invitations.create(principal, body));
  }

  @Get()
  @Roles('owner', 'admin')
  @ApiOperation({
    operationId: 'listInvitations',
    summary: 'List invitations, newest first',
    description: 'The organization’s invitations, newest first, optionally by status.',
  })
  @ApiOkResponse({ type: InvitationPageDto, description: 'A page of invitations.' })
  @ApiErrors(ValidationFailedError, InvalidCursorError)
  async list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ListInvitationsQueryDto,
  ): Promise<InvitationPageDto> {
    const page = await this.invitations.list(principal.organizationId, query);
    return { items: page.items.map(toInvitationResponse), nextCursor: page.nextCursor };
  }

  @Delete(':id')
  @HttpCode(204)
  @Roles('owner', 'admin')
  @ApiOperation({
    operationId: 'revokeInvitation',
    summary: 'Revoke a pending invitation',
    description: 'Revokes a pending invitation: nobody can join with it any more.',
  })
  @ApiNoContentResponse({ description: 'Revoked.' })
  @ApiErrors(InvitationNotFoundError, InvitationNotPendingError)
  async revoke(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', InvitationNotFoundError) id: string,
  ): Promise<void> {
    await this.invitations.revoke(principal, id);
  }
}
