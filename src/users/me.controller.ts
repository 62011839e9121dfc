import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Auth, CurrentPrincipal, WithCallerProfile } from '../common/auth.decorators.js';
import type { Principal } from '../common/principal.js';
import { MeResponseDto, toMeResponse } from './dto/user.dto.js';
import { UsersService } from './users.service.js';

/** The signed-in user's own view: who they are. */
@ApiTags('me')
@Controller('api/v1')
@Auth('session')
export class MeController {
  constructor(private readonly users: UsersService) {}

  @Get('me')
  @WithCallerProfile()
  @ApiOperation({
    operationId: 'getMe',
    summary: 'The signed-in user',
    description: 'The signed-in user: profile, role, status and linked Microsoft accounts.',
  })
  @ApiOkResponse({ type: MeResponseDto, description: 'The signed-in user.' })
  async me(@CurrentPrincipal() principal: Principal): Promise<MeResponseDto> {
    const { user, identities } = await this.users.getMe(principal);
    return toMeResponse(user, identities);
  }
}
