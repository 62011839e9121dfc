import { Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors.decorator.js';
import { Auth, CurrentPrincipal, Roles, Scopes } from '../common/auth.decorators.js';
import type { Principal } from '../common/principal.js';
import { UuidParam } from '../common/uuid-param.js';
import { toUserResponse, UserResponseDto } from '../users/dto/user.dto.js';
import {
  InvalidUserStateError,
  OwnerRoleReservedError,
  SeatLimitReachedError,
  UserNotFoundError,
} from '../users/users.errors.js';
import { ActivationService } from './activation.service.js';

@ApiTags('users')
@Controller('api/v1/users')
@Auth('session')
export class ActivationController {
  constructor(private readonly activation: ActivationService) {}

  @Post(':id/activate')
  @ApiErrors(UserNotFoundError, InvalidUserStateError, SeatLimitReachedError)
  @HttpCode(200)
  @Roles('owner', 'admin')
  @Scopes('users:write')
  @ApiOperation({
    operationId: 'activateUser',
    summary: 'Activate a pending user (takes a seat)',
    description:
      'For a user awaiting approval, or one waiting in the seat queue (who then skips it). The user takes a seat ' +
      'and can sign in; with no free seat, 409 `SEAT_LIMIT_REACHED`. Only a `pending` user can be activated.',
  })
  @ApiOkResponse({ type: UserResponseDto, description: 'The user, now active.' })
  async activate(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', UserNotFoundError) id: string,
  ): Promise<UserResponseDto> {
    return toUserResponse(await this.activation.activateByHand(principal, id));
  }

  @Post(':id/reactivate')
  @ApiErrors(UserNotFoundError, SeatLimitReachedError, InvalidUserStateError, OwnerRoleReservedError)
  @HttpCode(200)
  @Roles('owner', 'admin')
  @Scopes('users:write')
  @ApiOperation({
    operationId: 'reactivateUser',
    summary: 'Reactivate a deactivated user (takes a seat)',
    description: 'Lets a deactivated user sign in again; it takes a seat, so it needs a free one.',
  })
  @ApiOkResponse({ type: UserResponseDto, description: 'The reactivated user.' })
  async reactivate(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', UserNotFoundError) id: string,
  ): Promise<UserResponseDto> {
    return toUserResponse(await this.activation.reactivate(principal, id));
  }
}
