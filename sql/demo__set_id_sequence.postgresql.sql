-- Move a table's id sequence to the last id the demo data generator assigned itself (is_called false
-- on an empty table, so the next id is 1).
select setval(pg_get_serial_sequence(:table_name, 'id'), :last_id, :is_called)
