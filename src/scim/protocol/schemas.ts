import { SCHEMAS } from './constants.js';

/** One attribute definition as RFC 7643 §7 describes it (the `/Schemas` document is built from these). */
export interface AttributeDefinition {
  name: string;
  type: 'string' | 'boolean' | 'decimal' | 'integer' | 'dateTime' | 'reference' | 'binary' | 'complex';
  multiValued: boolean;
  description: string;
  required: boolean;
  caseExact: boolean;
  mutability: 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
  returned: 'always' | 'never' | 'default' | 'request';
  uniqueness: 'none' | 'server' | 'global';
  canonicalValues?: string[];
  referenceTypes?: string[];
  subAttributes?: AttributeDefinition[];
}

export interface SchemaDefinition {
  id: string;
  name: string;
  description: string;
  attributes: AttributeDefinition[];
}

type Options = Partial<Omit<AttributeDefinition, 'name' | 'type' | 'description'>>;

function attr(name: string, type: AttributeDefinition['type'], description: string, options: Options = {}) {
  const definition: AttributeDefinition = {
    name,
    type,
    multiValued: false,
    description,
    required: false,
    caseExact: false,
    mutability: 'readWrite',
    returned: 'default',
    uniqueness: 'none',
    ...options,
  };
  // RFC 7643 §2.3: caseExact has a meaning for strings and references only; keep the document honest.
  if (type === 'complex' && !definition.subAttributes) definition.subAttributes = [];
  return definition;
}

const str = (name: string, description: string, options?: Options) =>
  attr(name, 'string', description, options);

function multiValuedComplex(
  name: string,
  description: string,
  typeValues: string[],
  extra: AttributeDefinition[] = [],
) {
  return attr(name, 'complex', description, {
    multiValued: true,
    subAttributes: [
      str('value', `The ${name} value.`),
      str('display', 'A human-readable name, primarily used for display purposes.'),
      str('type', `A label indicating the ${name}'s function.`, { canonicalValues: typeValues }),
      attr('primary', 'boolean', 'Whether this is the primary value of the attribute (at most one).'),
      ...extra,
    ],
  });
}

const USER: SchemaDefinition = {
  id: SCHEMAS.USER,
  name: 'User',
  description: 'User Account',
  attributes: [
    str('userName', 'Unique identifier for the User, typically used to sign in (Entra: userPrincipalName).', {
      required: true,
      uniqueness: 'server',
    }),
    attr('name', 'complex', "The components of the user's real name.", {
      subAttributes: [
        str('formatted', 'The full name, formatted for display.'),
        str('familyName', 'The family name of the User.'),
        str('givenName', 'The given name of the User.'),
        str('middleName', 'The middle name(s) of the User.'),
        str('honorificPrefix', 'The honorific prefix(es) of the User.'),
        str('honorificSuffix', 'The honorific suffix(es) of the User.'),
      ],
    }),
    str('displayName', 'The name of the User, suitable for display to end-users.'),
    str('nickName', 'The casual way to address the user.'),
    attr('profileUrl', 'reference', "A fully qualified URL pointing to the user's online profile.", {
      referenceTypes: ['external'],
    }),
    str('title', "The user's title, such as 'Vice President'."),
    str('userType', 'The relationship between the organization and the user.'),
    str('preferredLanguage', "The User's preferred written or spoken language."),
    str('locale', "The User's default location for localizing items."),
    str('timezone', "The User's time zone in the 'Olson' time zone database format."),
    attr(
      'active',
      'boolean',
      'Whether the directory wants the account active (see the product extension for its actual status).',
    ),
    str('password', 'The password of the User; never stored and never returned.', {
      mutability: 'writeOnly',
      returned: 'never',
      caseExact: true,
    }),
    multiValuedComplex('emails', 'Email addresses for the user.', ['work', 'home', 'other']),
    multiValuedComplex('phoneNumbers', 'Phone numbers for the User.', [
      'work',
      'home',
      'mobile',
      'fax',
      'pager',
      'other',
    ]),
    multiValuedComplex('ims', 'Instant messaging addresses for the User.', [
      'aim',
      'gtalk',
      'icq',
      'xmpp',
      'msn',
      'skype',
      'qq',
      'yahoo',
    ]),
    multiValuedComplex('photos', 'URLs of photos of the User.', ['photo', 'thumbnail']),
    attr('addresses', 'complex', 'A physical mailing address for this User.', {
      multiValued: true,
      subAttributes: [
        str('formatted', 'The full mailing address, formatted for display.'),
        str('streetAddress', 'The full street address component.'),
        str('locality', 'The city or locality component.'),
        str('region', 'The state or region component.'),
        str('postalCode', 'The zip code or postal code component.'),
        str('country', 'The country name component (ISO 3166-1 alpha-2).'),
        str('type', "A label indicating the address' function.", {
          canonicalValues: ['work', 'home', 'other'],
        }),
        attr('primary', 'boolean', 'Whether this is the primary address.'),
      ],
    }),
    attr(
      'groups',
      'complex',
      'The groups the user belongs to, as their memberships say; managed through /Groups.',
      {
        multiValued: true,
        mutability: 'readOnly',
        subAttributes: [
          str('value', 'The identifier of the Group.', { mutability: 'readOnly' }),
          attr('$ref', 'reference', 'The URI of the Group.', {
            mutability: 'readOnly',
            referenceTypes: ['Group'],
          }),
          str('display', 'The displayName of the Group.', { mutability: 'readOnly' }),
          str('type', "The membership type: 'direct' or 'indirect'.", {
            mutability: 'readOnly',
            canonicalValues: ['direct', 'indirect'],
          }),
        ],
      },
    ),
    multiValuedComplex('entitlements', 'A list of entitlements for the User.', []),
    multiValuedComplex('roles', 'A list of roles for the User (as the directory states them).', []),
    attr('x509Certificates', 'complex', 'A list of certificates issued to the User.', {
      multiValued: true,
      subAttributes: [
        attr('value', 'binary', 'The value of an X.509 certificate.'),
        str('display', 'A human-readable name.'),
        str('type', "A label indicating the certificate's function."),
        attr('primary', 'boolean', 'Whether this is the primary certificate.'),
      ],
    }),
  ],
};

const ENTERPRISE_USER: SchemaDefinition = {
  id: SCHEMAS.ENTERPRISE_USER,
  name: 'EnterpriseUser',
  description: 'Enterprise User',
  attributes: [
    str('employeeNumber', 'Numeric or alphanumeric identifier assigned to a person by the organization.'),
    str('costCenter', 'Identifies the name of a cost center.'),
    str('organization', 'Identifies the name of an organization.'),
    str('division', 'Identifies the name of a division.'),
    str('department', 'Identifies the name of a department.'),
    attr('manager', 'complex', "The User's manager.", {
      subAttributes: [
        str('value', 'The id of the SCIM resource representing the manager.'),
        attr('$ref', 'reference', 'The URI of the manager.', { referenceTypes: ['User'] }),
        str('displayName', 'The displayName of the manager.', { mutability: 'readOnly' }),
      ],
    }),
  ],
};

const GROUP: SchemaDefinition = {
  id: SCHEMAS.GROUP,
  name: 'Group',
  description: 'Group',
  attributes: [
    str('displayName', 'A human-readable name for the Group.', { required: true }),
    attr('members', 'complex', 'A list of members of the Group (users of the organization).', {
      multiValued: true,
      subAttributes: [
        str('value', 'Identifier of the member of this Group.', { mutability: 'immutable' }),
        attr('$ref', 'reference', 'The URI of the member.', {
          mutability: 'immutable',
          referenceTypes: ['User'],
        }),
        str('display', 'The displayName of the member.', { mutability: 'readOnly' }),
        str('type', 'The type of member.', { mutability: 'immutable', canonicalValues: ['User'] }),
      ],
    }),
  ],
};

const PRODUCT_USER: SchemaDefinition = {
  id: SCHEMAS.PRODUCT_USER,
  name: 'ProductUser',
  description:
    'What the product adds to a user: its product status and role (set by the product, read-only).',
  attributes: [
    str('status', "The user's status in the product: active, pending (see pendingReason) or deactivated.", {
      mutability: 'readOnly',
      canonicalValues: ['active', 'pending', 'deactivated'],
    }),
    str('pendingReason', 'Why a pending user is not active yet, e.g. awaiting_seat.', {
      mutability: 'readOnly',
    }),
    str('role', "The user's role in the organization: owner, admin, manager or employee.", {
      mutability: 'readOnly',
      canonicalValues: ['owner', 'admin', 'manager', 'employee'],
    }),
  ],
};

const CORE_SCHEMA_IDS: readonly string[] = [SCHEMAS.USER, SCHEMAS.GROUP];

export const SCHEMA_DEFINITIONS: readonly SchemaDefinition[] = [USER, ENTERPRISE_USER, GROUP, PRODUCT_USER];

/** Canonical spelling of an attribute or sub-attribute name by its lower-cased form (`givenname` → `givenName`). */
const CANONICAL = new Map<string, string>();
/** Lower-cased names of multi-valued attributes (`emails`, `members`, ...). */
const MULTI_VALUED = new Set<string>();
for (const schema of SCHEMA_DEFINITIONS) {
  for (const attribute of schema.attributes) {
    CANONICAL.set(attribute.name.toLowerCase(), attribute.name);
    if (attribute.multiValued) MULTI_VALUED.add(attribute.name.toLowerCase());
    for (const sub of attribute.subAttributes ?? []) CANONICAL.set(sub.name.toLowerCase(), sub.name);
  }
}
for (const name of ['id', 'externalId', 'meta', 'schemas']) CANONICAL.set(name.toLowerCase(), name);
for (const schema of Object.values(SCHEMAS)) CANONICAL.set(schema.toLowerCase(), schema);

/**
 * Attributes a client may not change, lower-cased; an extension's as `<schema urn>:<name>`
 * (`groups`, our product extension's `status`, `pendingreason`, `role`).
 */
export const READ_ONLY_ATTRIBUTES: readonly string[] = SCHEMA_DEFINITIONS.flatMap((schema) =>
  schema.attributes
    .filter((attribute) => attribute.mutability === 'readOnly')
    .map((attribute) =>
      CORE_SCHEMA_IDS.includes(schema.id)
        ? attribute.name.toLowerCase()
        : `${schema.id.toLowerCase()}:${attribute.name.toLowerCase()}`,
    ),
);

export function canonicalName(lower: string): string {
  return CANONICAL.get(lower) ?? lower;
}

export function isMultiValued(lowerAttribute: string): boolean {
  return MULTI_VALUED.has(lowerAttribute);
}

/** The schema URN (canonical spelling) that starts a URN-prefixed name, if it is one we know. */
export function knownSchemaPrefix(name: string): string | undefined {
  const lower = name.toLowerCase();
  return Object.values(SCHEMAS).find(
    (urn) => lower === urn.toLowerCase() || lower.startsWith(`${urn.toLowerCase()}:`),
  );
}

/** Core schemas whose URN prefix on an attribute name means the plain attribute (`urn:…:core:2.0:User:userName`). */
export const CORE_SCHEMAS_LOWER: readonly string[] = [
  SCHEMAS.USER.toLowerCase(),
  SCHEMAS.GROUP.toLowerCase(),
];
