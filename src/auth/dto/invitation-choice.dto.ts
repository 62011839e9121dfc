import { ApiProperty } from '@nestjs/swagger';
import { type Role, ROLES } from '../../common/access.js';
import type { InvitationOption } from '../../provisioning/provisioning.service.js';

/** One inviting organization: its name and the role offered — nothing about who invited or which address. */
export class InvitationOptionDto {
  @ApiProperty({
    format: 'uuid',
    description: 'The invitation; accept it with `POST /auth/invitations/{id}/accept`.',
  })
  id: string;

  @ApiProperty({ example: 'Northwind Traders', description: 'The inviting organization.' })
  organizationName: string;

  @ApiProperty({ enum: ROLES, enumName: 'Role', example: 'employee', description: 'The role it offers.' })
  role: Role;
}

export class InvitationChoiceDto {
  @ApiProperty({ format: 'date-time', description: 'The choice ends then; afterwards, sign in again.' })
  expiresAt: string;

  @ApiProperty({
    type: [InvitationOptionDto],
    description:
      'The organizations whose invitation is still pending, newest first. Empty when all were revoked meanwhile.',
  })
  invitations: InvitationOptionDto[];
}

export class SignInCompletedDto {
  @ApiProperty({
    example: 'http://localhost:3000/',
    description: 'Where the browser goes next: the UI at the `returnTo` the sign-in started with.',
  })
  redirectTo: string;
}

export function toInvitationChoiceResponse(choice: {
  expiresAt: Date;
  invitations: InvitationOption[];
}): InvitationChoiceDto {
  return {
    expiresAt: choice.expiresAt.toISOString(),
    invitations: choice.invitations.map((option) => ({
      id: option.invitationId,
      organizationName: option.organizationName,
      role: option.role,
    })),
  };
}
