ALTER TABLE "files" DROP CONSTRAINT "files_org_id_orgs_id_fk";
--> statement-breakpoint
ALTER TABLE "files" DROP CONSTRAINT "files_project_id_projects_id_fk";
