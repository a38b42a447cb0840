"""log: pruning only when due; consent and disclosures bound to the log

The one UPDATE the log's trigger allows, the retention run removing an entry's body, is now
allowed only once the entry's term has passed: every entry carries `bewaartermijn` P25Y
(services.audit.LOG_RETENTION), which the trigger cannot read from a body it is removing,
so it holds the number itself (25 years, LOG_RETENTION_YEARS). It is the retention run's
rule by whole days: the body may go once the registration time plus 25 years lies before
the start of the day after tomorrow (UTC), which allows a run whose local date is one day
ahead of UTC, and the `pruned_at` it writes must not lie in the future (one day's leeway
for the clocks) and must itself lie past the term, so that `audit verify`, which checks
every pruned entry with the same rule (audit.prunable), agrees with what the trigger let
through. On PostgreSQL the function deelwijs_log_entry_update() is replaced; on SQLite a
second UPDATE trigger (log_entry_prune_due) refuses a removal before the term.

Consent versions and disclosures are bound to the log from this revision on: the entry
each one writes names the row and holds a digest of its canonical content
(services.binding); no column changes. Entries written before cannot be sealed again (their
MAC and place in the Merkle tree are fixed): `audit verify` pairs the rows they name by the
references they already carry (a disclosure's id, a consent version's series and version),
and reports those rows as "ongebonden" in one summary line, not as forged. A row without
any entry is a problem either way.

Downgrading restores the earlier rule: a body may be removed at any time.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 10:00:00
"""

from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

YEARS = 25  # services.audit.LOG_RETENTION_YEARS

# the shape of the one UPDATE allowed: the body removed, every other column the same
PG_SHAPE = """OLD.body IS NOT NULL AND NEW.body IS NULL AND OLD.pruned_at IS NULL
       AND NEW.pruned_at IS NOT NULL AND NEW.id = OLD.id AND NEW.region_id = OLD.region_id
       AND NEW.seq = OLD.seq AND NEW.actie_id = OLD.actie_id
       AND NEW.subject IS NOT DISTINCT FROM OLD.subject AND NEW.activity_id = OLD.activity_id
       AND NEW.registered_at = OLD.registered_at AND NEW.leaf_hash = OLD.leaf_hash
       AND NEW.mac = OLD.mac"""

PG_DUE = f"""OLD.registered_at + interval '{YEARS} years'
           < (now() AT TIME ZONE 'UTC')::date + 2
       AND OLD.registered_at + interval '{YEARS} years' < NEW.pruned_at::date + 2
       AND NEW.pruned_at <= (now() AT TIME ZONE 'UTC') + interval '1 day'"""

PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION deelwijs_log_entry_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF {PG_SHAPE} THEN
        IF {PG_DUE} THEN
            RETURN NEW;  -- the retention run removes a body past its term; the leaf stays
        END IF;
        RAISE EXCEPTION 'deelwijs: UPDATE op log_entry geweigerd: de bewaartermijn van '
            'logregel % (% jaar na %) is niet voorbij', OLD.seq, {YEARS}, OLD.registered_at
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RAISE EXCEPTION 'deelwijs: UPDATE op log_entry geweigerd: het verwerkingslog is '
        'alleen-toevoegen' USING ERRCODE = 'insufficient_privilege';
END $$;
"""

# as revision 0002 created it
PG_FUNCTION_0002 = f"""
CREATE OR REPLACE FUNCTION deelwijs_log_entry_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF {PG_SHAPE} THEN
        RETURN NEW;  -- the retention run removes a body; the leaf stays
    END IF;
    RAISE EXCEPTION 'deelwijs: UPDATE op log_entry geweigerd: het verwerkingslog is '
        'alleen-toevoegen' USING ERRCODE = 'insufficient_privilege';
END $$;
"""

# SQLite: log_entry_update (revision 0002) refuses every UPDATE but the shape above; this one
# refuses that shape before the term. SQLite's datetime() of '+25 years' from 29 February
# gives 1 March, a day later than PostgreSQL (28 February): within the day of leeway.
SQLITE_DUE = f"""
CREATE TRIGGER log_entry_prune_due BEFORE UPDATE ON log_entry
WHEN OLD.body IS NOT NULL AND NEW.body IS NULL AND NOT (
    datetime(OLD.registered_at, '+{YEARS} years') < date('now', '+2 days')
    AND datetime(OLD.registered_at, '+{YEARS} years') < date(NEW.pruned_at, '+2 days')
    AND datetime(NEW.pruned_at) <= datetime('now', '+1 day'))
BEGIN SELECT RAISE(ABORT, 'deelwijs: UPDATE op log_entry geweigerd: de bewaartermijn van deze logregel ({YEARS} jaar na registratie) is niet voorbij'); END
"""


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(PG_FUNCTION)
    elif dialect == "sqlite":
        op.execute(SQLITE_DUE)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(PG_FUNCTION_0002)
    elif dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS log_entry_prune_due")
