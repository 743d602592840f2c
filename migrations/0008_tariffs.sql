-- Tariffs by family income bracket. A period's price lists are never edited: a new one, from a
-- later date, takes over from its `effective_from` on. Prices already booked are in the events
-- and do not follow these tables.
CREATE TABLE tariffs
(
    id             uuid PRIMARY KEY,
    period_id      uuid        NOT NULL REFERENCES periods (id),
    effective_from date        NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (period_id, effective_from)
);

-- One row per bracket: families whose quotient familial is at most `up_to` euros (inclusive)
-- pay `unit_price`; the open top bracket (`up_to` NULL) comes last.
CREATE TABLE tariff_brackets
(
    tariff_id  uuid           NOT NULL REFERENCES tariffs (id),
    position   integer        NOT NULL CHECK (position >= 0),
    up_to      integer CHECK (up_to >= 0),
    unit_price numeric(10, 2) NOT NULL CHECK (unit_price >= 0),
    PRIMARY KEY (tariff_id, position)
);

-- Set by staff from the family's CAF or tax papers, in euros; unknown (NULL) pays the top price.
ALTER TABLE families ADD COLUMN quotient_familial integer CHECK (quotient_familial >= 0);
