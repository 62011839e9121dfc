import { describe, expect, it } from 'vitest';
import { EVENT_DATA_SCHEMA, EVENT_DATA_SCHEMAS } from './events/dto/event.dto.js';
import { EVENT_TYPES } from './events/event-types.js';
import { EVENT_DATA_DTOS } from './app.event-data.js';

describe('the event data schemas', () => {
  it('registers with the document exactly the schemas EventDto.data names, in its order', () => {
    expect(EVENT_DATA_DTOS.map((dto) => dto.name)).toEqual([...EVENT_DATA_SCHEMAS]);
  });

  it('gives every event type one of them', () => {
    for (const type of EVENT_TYPES) expect(EVENT_DATA_SCHEMAS).toContain(EVENT_DATA_SCHEMA[type]);
  });
});
