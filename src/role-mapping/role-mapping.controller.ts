import { Body, Controller, Delete, Get, HttpCode, Post, Put, Query } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { Auth, CurrentPrincipal, RequiresPlan, Roles, Scopes } from '../common/auth.decorators.js';
import type { Principal } from '../common/principal.js';
import {
  DirectoryGroupPageDto,
  GroupRoleMappingInputDto,
  GroupRoleMappingListDto,
  GroupRoleMappingResponseDto,
  SearchGroupsQueryDto,
  toMappingResponse,
} from './dto/group-role-mapping.dto.js';
import { RoleMappingService } from './role-mapping.service.js';
import { ApiErrors } from '../common/api-errors.decorator.js';
import { MappingExistsError, MappingNotFoundError, UnknownGroupError } from './role-mapping.errors.js';
import { ValidationFailedError } from '../common/domain-error.js';
import { EntraNotConnectedError } from '../integrations/integrations.errors.js';
import { InvalidCursorError } from '../common/pagination.js';
import { UuidParam } from '../common/uuid-param.js';

@ApiTags('role-mapping')
@Controller('api/v1/integrations/entra')
@Auth('session')
@Roles('owner', 'admin')
@RequiresPlan('enterprise')
export class RoleMappingController {
  constructor(private readonly mappings: RoleMappingService) {}

  @Get('group-role-mappings')
  @Scopes('integrations:read')
  @ApiOperation({
    operationId: 'listGroupRoleMappings',
    summary: 'List Entra group → role mappings',
    description:
      'Every Entra group → role mapping of the organization. At each sign-in the most privileged matching group decides the role.',
  })
  @ApiOkResponse({ type: GroupRoleMappingListDto, description: 'The mappings.' })
  @ApiErrors(EntraNotConnectedError)
  async list(@CurrentPrincipal() principal: Principal): Promise<GroupRoleMappingListDto> {
    return { items: (await this.mappings.list(principal.organizationId)).map(toMappingResponse) };
  }

  @Post('group-role-mappings')
  @Scopes('integrations:write')
  @ApiOperation({
    operationId: 'createGroupRoleMapping',
    summary: 'Map an Entra group to a role',
    description:
      'While group mapping is on, a user’s groups decide their role at every Microsoft sign-in: the most ' +
      'privileged matching role wins (admin > manager > employee); with no match, a mapped or default role falls ' +
      'back to Employee while a role set by hand or by invitation is kept. Owners are never changed. Members of ' +
      'the group pushed by SCIM take the role at once; everyone else at their next sign-in.',
  })
  @ApiCreatedResponse({ type: GroupRoleMappingResponseDto, description: 'The new mapping.' })
  @ApiErrors(ValidationFailedError, UnknownGroupError, MappingExistsError, EntraNotConnectedError)
  async create(
    @CurrentPrincipal() principal: Principal,
    @Body() body: GroupRoleMappingInputDto,
  ): Promise<GroupRoleMappingResponseDto> {
    return toMappingResponse(await this.mappings.create(principal, body));
  }

  @Put('group-role-mappings/:id')
  @Scopes('integrations:write')
  @ApiOperation({
    operationId: 'updateGroupRoleMapping',
    summary: 'Change a mapping’s group or role',
    description:
      'Points a mapping at another group or role. Members pushed by SCIM (of the old or the new group) take ' +
      'their new role at once; everyone else at their next sign-in.',
  })
  @ApiOkResponse({ type: GroupRoleMappingResponseDto, description: 'The changed mapping.' })
  @ApiErrors(ValidationFailedError, MappingNotFoundError, UnknownGroupError, MappingExistsError)
  async update(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', MappingNotFoundError) id: string,
    @Body() body: GroupRoleMappingInputDto,
  ): Promise<GroupRoleMappingResponseDto> {
    return toMappingResponse(await this.mappings.update(principal, id, body));
  }

  @Delete('group-role-mappings/:id')
  @HttpCode(204)
  @Scopes('integrations:write')
  @ApiOperation({
    operationId: 'deleteGroupRoleMapping',
    summary: 'Delete a mapping',
    description:
      'Removes a mapping. The remaining mappings decide the role of the group’s members pushed by SCIM at once; ' +
      'other users keep their current role until their next sign-in, when the remaining mappings decide.',
  })
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiErrors(MappingNotFoundError)
  async remove(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', MappingNotFoundError) id: string,
  ): Promise<void> {
    await this.mappings.remove(principal, id);
  }

  @Get('groups')
  @Scopes('integrations:read')
  @ApiOperation({
    operationId: 'searchEntraGroups',
    summary: 'Search the tenant’s groups by name prefix (from Graph)',
    description:
      'Groups of the connected tenant whose name starts with `search`, read live from Microsoft Graph, to pick one for a mapping.',
  })
  @ApiOkResponse({ type: DirectoryGroupPageDto, description: 'A page of groups.' })
  @ApiErrors(InvalidCursorError, EntraNotConnectedError)
  async groups(
    @CurrentPrincipal() principal: Principal,
    @Query() query: SearchGroupsQueryDto,
  ): Promise<DirectoryGroupPageDto> {
    const page = await this.mappings.searchGroups(principal.organizationId, query);
    return { items: page.groups, nextCursor: page.nextCursor };
  }
}
