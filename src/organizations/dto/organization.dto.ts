import { ApiProperty } from '@nestjs/swagger';
import { type OrganizationEntity, type Plan, PLANS } from '../entities/organization.entity.js';

export class OrganizationResponseDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'Contoso' })
  name: string;

  @ApiProperty({ enum: PLANS, enumName: 'Plan' })
  plan: Plan;

  @ApiProperty({ example: 5, description: 'Maximum number of active users.' })
  seatLimit: number;

  @ApiProperty({ example: 3, description: 'Active users, each taking a seat.' })
  seatsUsed: number;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;
}

export function toOrganizationResponse(
  organization: OrganizationEntity,
  seatsUsed: number,
): OrganizationResponseDto {
  return {
    id: organization.id,
    name: organization.name,
    plan: organization.plan,
    seatLimit: organization.seatLimit,
    seatsUsed,
    createdAt: organization.createdAt.toISOString(),
  };
}
