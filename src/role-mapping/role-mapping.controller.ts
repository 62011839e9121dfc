import { Body, Controller, Delete, Get, HttpCode, Post, Put, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { Auth, CurrentPrincipal, RequiresPlan, Roles } from '../common/auth.decorators.js';
import type { Principal } from '../common/principal.js';
import { ProblemDocumentDto } from '../common/problem.dto.js';
import {
  DirectoryGroupPageDto,
  GroupRoleMappingInputDto,
  GroupRoleMappingListDto,
  GroupRoleMappingResponseDto,
  SearchGroupsQueryDto,
  toMappingResponse,
} from './dto/group-role-mapping.dto.js';
import { RoleMappingService } from './role-mapping.service.js';
import { UuidParam } from '../common/uuid-param.js';
import { MappingNotFoundError } from './role-mapping.errors.js';

const NOT_CONNECTED = { description: 'Not connected (`ENTRA_NOT_CONNECTED`).', type: ProblemDocumentDto };
const UNKNOWN_GROUP = {
  description: 'No such group in the tenant (`UNKNOWN_GROUP`).',
  type: ProblemDocumentDto,
};
const NOT_FOUND = {
  description: 'No such mapping (`GROUP_ROLE_MAPPING_NOT_FOUND`).',
  type: ProblemDocumentDto,
};
const INVALID = { description: 'Invalid body (`VALIDATION_FAILED`).', type: ProblemDocumentDto };

@ApiTags('role-mapping')
@Controller('api/v1/integrations/entra')
@Auth('session')
@Roles('owner', 'admin')
@RequiresPlan('enterprise')
export class RoleMappingController {
  constructor(private readonly mappings: RoleMappingService) {}

  @Get('group-role-mappings')
  @ApiOperation({ operationId: 'listGroupRoleMappings', summary: 'List Entra group → role mappings' })
  @ApiOkResponse({ type: GroupRoleMappingListDto })
  @ApiConflictResponse(NOT_CONNECTED)
  async list(@CurrentPrincipal() principal: Principal): Promise<GroupRoleMappingListDto> {
    return { items: (await this.mappings.list(principal.organizationId)).map(toMappingResponse) };
  }

  @Post('group-role-mappings')
  @ApiOperation({
    operationId: 'createGroupRoleMapping',
    summary: 'Map an Entra group to a role',
    description:
      'While group mapping is on, a user’s groups decide their role at every Microsoft sign-in: the most ' +
      'privileged matching role wins (admin > manager > employee); with no match, a mapped or default role falls ' +
      'back to Employee while a role set by hand or by invitation is kept. Owners are never changed.',
  })
  @ApiCreatedResponse({ type: GroupRoleMappingResponseDto })
  @ApiBadRequestResponse(INVALID)
  @ApiUnprocessableEntityResponse(UNKNOWN_GROUP)
  @ApiConflictResponse({
    description: 'Already mapped (`MAPPING_EXISTS`) or not connected (`ENTRA_NOT_CONNECTED`).',
    type: ProblemDocumentDto,
  })
  async create(
    @CurrentPrincipal() principal: Principal,
    @Body() body: GroupRoleMappingInputDto,
  ): Promise<GroupRoleMappingResponseDto> {
    return toMappingResponse(await this.mappings.create(principal, body));
  }

  @Put('group-role-mappings/:id')
  @ApiOperation({ operationId: 'updateGroupRoleMapping', summary: 'Change a mapping’s group or role' })
  @ApiOkResponse({ type: GroupRoleMappingResponseDto })
  @ApiBadRequestResponse(INVALID)
  @ApiNotFoundResponse(NOT_FOUND)
  @ApiUnprocessableEntityResponse(UNKNOWN_GROUP)
  @ApiConflictResponse({
    description: 'The group already has another mapping (`MAPPING_EXISTS`).',
    type: ProblemDocumentDto,
  })
  async update(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', MappingNotFoundError) id: string,
    @Body() body: GroupRoleMappingInputDto,
  ): Promise<GroupRoleMappingResponseDto> {
    return toMappingResponse(await this.mappings.update(principal, id, body));
  }

  @Delete('group-role-mappings/:id')
  @HttpCode(204)
  @ApiOperation({
    operationId: 'deleteGroupRoleMapping',
    summary: 'Delete a mapping (roles change at the next sign-in)',
  })
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiNotFoundResponse(NOT_FOUND)
  async remove(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', MappingNotFoundError) id: string,
  ): Promise<void> {
    await this.mappings.remove(principal, id);
  }

  @Get('groups')
  @ApiOperation({
    operationId: 'searchEntraGroups',
    summary: 'Search the tenant’s groups by name prefix (from Graph)',
  })
  @ApiOkResponse({ type: DirectoryGroupPageDto })
  @ApiBadRequestResponse({
    description: 'Invalid query or cursor (`INVALID_CURSOR`).',
    type: ProblemDocumentDto,
  })
  @ApiConflictResponse(NOT_CONNECTED)
  async groups(
    @CurrentPrincipal() principal: Principal,
    @Query() query: SearchGroupsQueryDto,
  ): Promise<DirectoryGroupPageDto> {
    const page = await this.mappings.searchGroups(principal.organizationId, query);
    return { items: page.groups, nextCursor: page.nextCursor };
  }
}
