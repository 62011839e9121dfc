import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Auth, CurrentPrincipal } from '../common/auth.decorators.js';
import type { Principal } from '../common/principal.js';
import { OrganizationResponseDto, toOrganizationResponse } from './dto/organization.dto.js';
import { OrganizationsService } from './organizations.service.js';
import { ApiErrors } from '../common/api-errors.decorator.js';
import { OrganizationNotFoundError } from './organizations.errors.js';

@ApiTags('me')
@Controller('api/v1')
@Auth('session')
export class OrganizationsController {
  constructor(private readonly organizations: OrganizationsService) {}

  @Get('organization')
  @ApiErrors(OrganizationNotFoundError)
  @ApiOperation({
    operationId: 'getOrganization',
    summary: 'The signed-in user’s organization, plan and seats',
    description: 'The caller’s organization: name, plan, seat limit and seats used.',
  })
  @ApiOkResponse({ type: OrganizationResponseDto, description: 'The organization.' })
  async organization(@CurrentPrincipal() principal: Principal): Promise<OrganizationResponseDto> {
    const { organization, seatsUsed } = await this.organizations.getWithSeats(principal.organizationId);
    return toOrganizationResponse(organization, seatsUsed);
  }
}
