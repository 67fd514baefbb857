build-ops/sql_migrations.o: build-ops/sql_migrations.c
