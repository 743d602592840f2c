-- Headcounts folded as the places were (0036): the reservations projector wrote ~140 headcount
-- rows for each whole-year request it applied, ~750 row upserts per batch of the opening-day
-- rush. A row per restaurant, month, service, meal option and period now holds the month's
-- counts in two arrays of 31 entries (entry i is day i of the month): a batch upserts about a
-- tenth as many rows. No view keeps the old name: a rebuild swaps the projection's tables, and
-- a view would tie the live table to its place (`src/db/headcounts.rs` reads the days).
CREATE TABLE headcount_months
(
    restaurant_id    uuid      NOT NULL,
    month            date      NOT NULL CHECK (extract(day FROM month) = 1),
    service          text      NOT NULL,
    meal_option      text      NOT NULL,
    period_id        uuid      NOT NULL,
    booked           integer[] NOT NULL CHECK (cardinality(booked) = 31),
    awaiting_payment integer[] NOT NULL CHECK (cardinality(awaiting_payment) = 31),
    PRIMARY KEY (restaurant_id, month, service, meal_option, period_id)
);

INSERT INTO headcount_months (restaurant_id, month, service, meal_option, period_id, booked,
                              awaiting_payment)
SELECT restaurant_id, month_of(date), service, meal_option, period_id,
       month_capacities(month_values(array_agg(day_of(date)), array_agg(booked)), month_counts('{}')),
       month_capacities(month_values(array_agg(day_of(date)), array_agg(awaiting_payment)),
                        month_counts('{}'))
  FROM headcount_view
 GROUP BY restaurant_id, month_of(date), service, meal_option, period_id;

DROP TABLE headcount_view;
