-- What families choose to receive (issue 18, point 2): the non-essential e-mails a family may
-- turn off in "Mon compte". No row: the e-mail is sent. The notifications consumer reads it
-- when it decides an e-mail.
CREATE TABLE family_mail_preferences
(
    family_id   uuid        NOT NULL REFERENCES families (id),
    kind        text        NOT NULL,
    enabled     boolean     NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (family_id, kind)
);

-- An e-mail a family may turn off carries `List-Unsubscribe`: the portal's page where it does
-- (a path of the public URL).
ALTER TABLE mail_outbox ADD COLUMN unsubscribe_path text;
