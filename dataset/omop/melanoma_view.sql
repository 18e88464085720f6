-- dataset/omop/melanoma_view.sql — flattens an OMOP CDM v5.4 instance into the
-- example melanoma analysis table (the columns of pht-registry-gen's
-- dictionary), one row per person with a systemic therapy, ordered by person.
--
-- Run it in the CDM schema (SET search_path TO cdm) as a user who may create
-- views there; a station then reads it with a read-only query:
--   "postgres": "host=... dbname=... user=pht_reader", "passfile": "...",
--   "query": "SELECT * FROM melanoma_registry ORDER BY patient_id"
-- The conventions below are this view's, not the CDM's: a site maps its own
-- concepts and source values onto them (docs/dataset.md, "OMOP CDM").
--
--   column         from
--   patient_id     person.person_id
--   age            whole years from the birth date (year/month/day_of_birth)
--                  to start_date
--   sex            person.gender_concept_id: 8532 female, 8507 male
--   stage          measurement 'AJCC_STAGE', value_source_value
--   ecog           measurement 'ECOG', value_as_number
--   ldh_elevated   measurement 'LDH', value_as_number > range_high
--   braf           measurement 'BRAF', value_source_value (V600, wildtype)
--   treatment      drug_exposure: the regimen's agents (drug_source_value),
--                  sorted and joined with '+', named as the registry names
--                  them (dacarbazine alone is 'chemotherapy')
--   line           measurement 'LINE_OF_THERAPY', value_as_number
--   start_date     the first drug_exposure_start_date
--   best_response  measurement 'RECIST_BEST_RESPONSE', value_source_value
--   ae_grade3      1 when a condition_occurrence 'AE_GRADE3' exists, else 0
--   pfs_days       days from start_date to the first of progression
--                  (condition_occurrence 'PROGRESSION'), death, end of
--                  observation
--   pfs_event      1 when progression or death was observed
--   os_days        days from start_date to death, else to the end of
--                  observation (observation_period_end_date)
--   os_event       1 when death.death_date is known
--   cost_eur       the sum of cost.total_cost of the person's drug exposures
--
-- A measurement that is absent gives NULL, which the loader reads as an
-- empty cell: missing under the dictionary's default missing codes.
CREATE OR REPLACE VIEW melanoma_registry AS
WITH tx AS (
  SELECT person_id,
         min(drug_exposure_start_date) AS start_date,
         string_agg(lower(drug_source_value), '+'
                    ORDER BY lower(drug_source_value)) AS agents
    FROM drug_exposure
   GROUP BY person_id
), m AS (
  SELECT person_id,
         max(value_as_number) FILTER (WHERE measurement_source_value = 'ECOG') AS ecog,
         bool_or(value_as_number > range_high)
           FILTER (WHERE measurement_source_value = 'LDH') AS ldh_elevated,
         max(value_source_value) FILTER (WHERE measurement_source_value = 'BRAF') AS braf,
         max(value_source_value) FILTER (WHERE measurement_source_value = 'AJCC_STAGE') AS stage,
         max(value_as_number)
           FILTER (WHERE measurement_source_value = 'LINE_OF_THERAPY') AS line,
         max(value_source_value)
           FILTER (WHERE measurement_source_value = 'RECIST_BEST_RESPONSE') AS best_response
    FROM measurement
   GROUP BY person_id
), prog AS (
  SELECT person_id, min(condition_start_date) AS progression_date
    FROM condition_occurrence
   WHERE condition_source_value = 'PROGRESSION'
   GROUP BY person_id
), ae AS (
  SELECT DISTINCT person_id
    FROM condition_occurrence
   WHERE condition_source_value = 'AE_GRADE3'
), fu AS (
  SELECT person_id, max(observation_period_end_date) AS end_date
    FROM observation_period
   GROUP BY person_id
), spend AS (
  SELECT de.person_id, sum(c.total_cost) AS cost
    FROM drug_exposure de
    JOIN cost c ON c.cost_event_id = de.drug_exposure_id AND c.cost_domain_id = 'Drug'
   GROUP BY de.person_id
)
SELECT p.person_id AS patient_id,
       date_part('year', age(tx.start_date,
                 make_date(p.year_of_birth, p.month_of_birth, p.day_of_birth)))::int AS age,
       CASE p.gender_concept_id WHEN 8532 THEN 'female' WHEN 8507 THEN 'male' END AS sex,
       m.stage,
       m.ecog::int AS ecog,
       m.ldh_elevated,
       m.braf,
       CASE tx.agents
         WHEN 'dacarbazine' THEN 'chemotherapy'
         WHEN 'binimetinib+encorafenib' THEN 'encorafenib+binimetinib'
         WHEN 'cobimetinib+vemurafenib' THEN 'vemurafenib+cobimetinib'
         ELSE tx.agents END AS treatment,
       m.line::int AS line,
       tx.start_date,
       m.best_response,
       (ae.person_id IS NOT NULL)::int AS ae_grade3,
       least(prog.progression_date, d.death_date, fu.end_date) - tx.start_date AS pfs_days,
       (prog.progression_date IS NOT NULL OR d.death_date IS NOT NULL)::int AS pfs_event,
       coalesce(d.death_date, fu.end_date) - tx.start_date AS os_days,
       (d.death_date IS NOT NULL)::int AS os_event,
       spend.cost AS cost_eur
  FROM person p
  JOIN tx USING (person_id)
  LEFT JOIN m USING (person_id)
  LEFT JOIN prog USING (person_id)
  LEFT JOIN ae USING (person_id)
  LEFT JOIN fu USING (person_id)
  LEFT JOIN spend USING (person_id)
  LEFT JOIN death d USING (person_id);
