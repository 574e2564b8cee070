CREATE TABLE "knowledge_term_df" (
	"store_id" text NOT NULL,
	"term" text NOT NULL,
	"df" integer NOT NULL,
	CONSTRAINT "knowledge_term_df_pk" PRIMARY KEY("store_id","term")
);
--> statement-breakpoint
ALTER TABLE "knowledge_term_postings" ADD COLUMN "chunk_length" integer NOT NULL;