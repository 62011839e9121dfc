import { ApiProperty } from '@nestjs/swagger';
import { type OrganizationEntity, type Plan, PLANS } from '../entities/organization.entity.js';

export class OrganizationResponseDto {
  @ApiProperty({ format: 'uuid', description: 'The organization id.' })
  id: string;

  @ApiProperty({ example: 'Contoso', description: 'Its name.' })
  name: string;

  @ApiProperty({
    enum: PLANS,
    enumName: 'Plan',
    example: 'enterprise',
    description: 'Its subscription plan.',
  })
  plan: Plan;

  @ApiProperty({ type: 'integer', example: 50, description: 'Maximum number of active users.' })
  seatLimit: number;

  @ApiProperty({ type: 'integer', example: 3, description: 'Active users, each taking a seat.' })
  seatsUsed: number;

  @ApiProperty({ format: 'date-time', description: 'When it was created.' })
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
