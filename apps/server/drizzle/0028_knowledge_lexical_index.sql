CREATE TABLE "knowledge_chunk_lengths" (
	"store_id" text NOT NULL,
	"chunk_id" text NOT NULL,
	"length" integer NOT NULL,
	CONSTRAINT "knowledge_chunk_lengths_pk" PRIMARY KEY("store_id","chunk_id")
);
--> statement-breakpoint
CREATE TABLE "knowledge_term_postings" (
	"store_id" text NOT NULL,
	"term" text NOT NULL,
	"chunk_id" text NOT NULL,
	"tf" integer NOT NULL,
	CONSTRAINT "knowledge_term_postings_pk" PRIMARY KEY("store_id","term","chunk_id")
);
--> statement-breakpoint
CREATE TABLE "knowledge_term_stats" (
	"store_id" text PRIMARY KEY NOT NULL,
	"doc_count" bigint DEFAULT 0 NOT NULL,
	"total_length" bigint DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE INDEX "knowledge_term_postings_chunk_idx" ON "knowledge_term_postings" USING btree ("store_id","chunk_id");