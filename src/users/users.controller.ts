import { Body, Controller, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Auth, CurrentPrincipal, Roles, Scopes } from '../common/auth.decorators.js';
import type { Principal } from '../common/principal.js';
import {
  ListUsersQueryDto,
  toUserResponse,
  toUserRowResponse,
  UpdateUserDto,
  UserPageDto,
  UserResponseDto,
} from './dto/user.dto.js';
import { UsersService } from './users.service.js';
import { ApiErrors } from '../common/api-errors.decorator.js';
import {
  InvalidUserStateError,
  LastOwnerError,
  OwnerRoleReservedError,
  SearchTermTooShortError,
  UserNotFoundError,
} from './users.errors.js';
import { COMMON_ERRORS, ValidationFailedError } from '../common/domain-error.js';
import { InvalidCursorError } from '../common/pagination.js';
import { UuidParam } from '../common/uuid-param.js';

@ApiTags('users')
@Controller('api/v1/users')
@Auth('session')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @ApiErrors(ValidationFailedError, InvalidCursorError, SearchTermTooShortError)
  @Scopes('users:read')
  @ApiOperation({
    operationId: 'listUsers',
    summary: 'List the organization’s users',
    description:
      'The organization’s users, oldest first, filtered by status or role and searched by email or name, paged ' +
      'by cursor. `status=pending` lists the users waiting for an administrator (`awaiting_approval`) or for a ' +
      'seat (`awaiting_seat`, with their `queuePosition`).',
  })
  @ApiOkResponse({ type: UserPageDto, description: 'A page of users.' })
  async list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ListUsersQueryDto,
  ): Promise<UserPageDto> {
    const page = await this.users.list(principal.organizationId, query);
    return {
      items: page.items.map((user) => toUserRowResponse(user, page.queuePositions.get(user.id) ?? null)),
      nextCursor: page.nextCursor,
    };
  }

  @Get(':id')
  @ApiErrors(UserNotFoundError)
  @Scopes('users:read')
  @ApiOperation({
    operationId: 'getUser',
    summary: 'Get one user',
    description: 'One user of the organization; another organization’s user is a 404.',
  })
  @ApiOkResponse({ type: UserResponseDto, description: 'The user.' })
  async get(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', UserNotFoundError) id: string,
  ): Promise<UserResponseDto> {
    const { user, queuePosition } = await this.users.getWithQueuePosition(principal.organizationId, id);
    return toUserResponse(user, queuePosition);
  }

  @Patch(':id')
  @ApiErrors(
    UserNotFoundError,
    ValidationFailedError,
    COMMON_ERRORS.MALFORMED_JSON,
    OwnerRoleReservedError,
    LastOwnerError,
  )
  @Roles('owner', 'admin')
  @Scopes('users:write')
  @ApiOperation({
    operationId: 'updateUser',
    summary: 'Change a user’s role',
    description: 'The role is then `manual`: kept at sign-in unless an Entra group mapping matches.',
  })
  @ApiOkResponse({ type: UserResponseDto, description: 'The user with the new role.' })
  async update(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', UserNotFoundError) id: string,
    @Body() body: UpdateUserDto,
  ): Promise<UserResponseDto> {
    return toUserResponse(await this.users.changeRole(principal, id, body.role));
  }

  @Post(':id/deactivate')
  @ApiErrors(UserNotFoundError, InvalidUserStateError, LastOwnerError)
  @HttpCode(200)
  @Roles('owner', 'admin')
  @Scopes('users:write')
  @ApiOperation({
    operationId: 'deactivateUser',
    summary: 'Deactivate a user',
    description: 'Ends their sessions at once and blocks sign-in. Nothing they own or did is deleted.',
  })
  @ApiOkResponse({ type: UserResponseDto, description: 'The deactivated user.' })
  async deactivate(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', UserNotFoundError) id: string,
  ): Promise<UserResponseDto> {
    return toUserResponse(await this.users.deactivate(principal, id));
  }
}
