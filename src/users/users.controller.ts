import { Body, Controller, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { Auth, CurrentPrincipal, Roles } from '../common/auth.decorators.js';
import type { Principal } from '../common/principal.js';
import { ProblemDocumentDto } from '../common/problem.dto.js';
import {
  ListUsersQueryDto,
  toUserResponse,
  UpdateUserDto,
  UserPageDto,
  UserResponseDto,
} from './dto/user.dto.js';
import { UsersService } from './users.service.js';
import { UuidParam } from '../common/uuid-param.js';
import { UserNotFoundError } from './users.errors.js';

const NOT_FOUND = {
  description: 'No such user in your organization (`USER_NOT_FOUND`).',
  type: ProblemDocumentDto,
};

@ApiTags('users')
@Controller('api/v1/users')
@Auth('session')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @ApiBadRequestResponse({
    description: 'Invalid filter (`VALIDATION_FAILED`) or cursor (`INVALID_CURSOR`).',
    type: ProblemDocumentDto,
  })
  @ApiOperation({ operationId: 'listUsers', summary: 'List the organization’s users' })
  @ApiOkResponse({ type: UserPageDto })
  async list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ListUsersQueryDto,
  ): Promise<UserPageDto> {
    const page = await this.users.list(principal.organizationId, query);
    return { items: page.items.map(toUserResponse), nextCursor: page.nextCursor };
  }

  @Get(':id')
  @ApiNotFoundResponse(NOT_FOUND)
  @ApiOperation({ operationId: 'getUser', summary: 'Get one user' })
  @ApiOkResponse({ type: UserResponseDto })
  async get(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', UserNotFoundError) id: string,
  ): Promise<UserResponseDto> {
    return toUserResponse(await this.users.get(principal.organizationId, id));
  }

  @Patch(':id')
  @ApiNotFoundResponse(NOT_FOUND)
  @Roles('owner', 'admin')
  @ApiOperation({
    operationId: 'updateUser',
    summary: 'Change a user’s role',
    description: 'The role is then `manual`: kept at sign-in unless an Entra group mapping matches.',
  })
  @ApiOkResponse({ type: UserResponseDto })
  @ApiBadRequestResponse({
    description: 'Invalid body (`VALIDATION_FAILED`, `MALFORMED_JSON`).',
    type: ProblemDocumentDto,
  })
  @ApiConflictResponse({
    description: 'Would leave no active owner (`LAST_OWNER`).',
    type: ProblemDocumentDto,
  })
  async update(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', UserNotFoundError) id: string,
    @Body() body: UpdateUserDto,
  ): Promise<UserResponseDto> {
    return toUserResponse(await this.users.changeRole(principal, id, body.role));
  }

  @Post(':id/deactivate')
  @ApiNotFoundResponse(NOT_FOUND)
  @HttpCode(200)
  @Roles('owner', 'admin')
  @ApiOperation({
    operationId: 'deactivateUser',
    summary: 'Deactivate a user',
    description: 'Ends their sessions at once and blocks sign-in. Nothing they own or did is deleted.',
  })
  @ApiOkResponse({ type: UserResponseDto })
  @ApiConflictResponse({
    description: 'Already deactivated (`INVALID_USER_STATE`) or the last active owner (`LAST_OWNER`).',
    type: ProblemDocumentDto,
  })
  async deactivate(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', UserNotFoundError) id: string,
  ): Promise<UserResponseDto> {
    return toUserResponse(await this.users.deactivate(principal, id));
  }

  @Post(':id/reactivate')
  @ApiNotFoundResponse(NOT_FOUND)
  @HttpCode(200)
  @Roles('owner', 'admin')
  @ApiOperation({ operationId: 'reactivateUser', summary: 'Reactivate a deactivated user (takes a seat)' })
  @ApiOkResponse({ type: UserResponseDto })
  @ApiConflictResponse({
    description: 'No free seat (`SEAT_LIMIT_REACHED`) or not deactivated (`INVALID_USER_STATE`).',
    type: ProblemDocumentDto,
  })
  async reactivate(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', UserNotFoundError) id: string,
  ): Promise<UserResponseDto> {
    return toUserResponse(await this.users.reactivate(principal, id));
  }
}
