#!/usr/bin/env python3
"""Writes tools.jsonl: the 1 000-tool evaluation set (20 connectors x 10
resources x 5 actions), one tools/list item per line, named as the
aggregate endpoint names them ({connector}__{tool}).

How it was written: for each of 20 well-known SaaS/infra products we listed
ten of the resources its real MCP server or API exposes, five actions that
API really offers on each, and the fields such a call takes. Descriptions
are built from a per-action sentence plus the resource's own phrase, so
they read like real tool descriptions (one or two sentences) and share
vocabulary across connectors the way real ones do ("create", "list",
"issue", "message"): the test is whether a query finds the right one of
many similar tools. Deterministic: run it again and the file is the same.
"""
import json, os

ACTIONS = {
    "create": "Create a new {noun} in {product}. {desc}",
    "get": "Get one {noun} from {product} by its id, with all its details. {desc}",
    "list": "List the {nouns} in {product}, newest first, with paging and filters. {desc}",
    "update": "Update the fields of an existing {noun} in {product}. {desc}",
    "delete": "Delete a {noun} from {product} permanently. {desc}",
    "search": "Search {nouns} in {product} by a text query. {desc}",
    "archive": "Archive a {noun} in {product}: hidden from lists but kept. {desc}",
    "close": "Close a {noun} in {product}. {desc}",
    "merge": "Merge a {noun} in {product}. {desc}",
    "assign": "Assign a {noun} in {product} to a person. {desc}",
    "comment": "Add a comment to a {noun} in {product}. {desc}",
    "send": "Send a {noun} through {product}. {desc}",
    "cancel": "Cancel a {noun} in {product}. {desc}",
    "restart": "Restart a {noun} in {product}. {desc}",
    "scale": "Scale a {noun} in {product} to a number of replicas. {desc}",
    "download": "Download the content of a {noun} from {product}. {desc}",
    "upload": "Upload a {noun} to {product}. {desc}",
    "share": "Share a {noun} in {product} with people or groups. {desc}",
    "invite": "Invite a person to a {noun} in {product}. {desc}",
    "refund": "Refund a {noun} in {product}, fully or partly. {desc}",
    "acknowledge": "Acknowledge a {noun} in {product} so responders know it is being handled. {desc}",
    "resolve": "Resolve a {noun} in {product}. {desc}",
    "run": "Run a {noun} in {product}. {desc}",
    "query": "Run a read-only query against a {noun} in {product}. {desc}",
    "export": "Export a {noun} from {product} as a file. {desc}",
    "move": "Move a {noun} in {product} to another place. {desc}",
    "schedule": "Schedule a {noun} in {product} for a later time. {desc}",
    "react": "Add an emoji reaction to a {noun} in {product}. {desc}",
    "pin": "Pin a {noun} in {product} to the top. {desc}",
    "mute": "Mute a {noun} in {product} for a while. {desc}",
}

# product, slug, resources: (noun, plural, description, fields, actions)
C = [
 ("GitHub", "github", [
   ("issue", "issues", "Issues track bugs and feature requests of a repository.", ["owner", "repo", "title", "body", "labels"], ["create", "get", "list", "update", "close"]),
   ("pull request", "pull requests", "A pull request proposes changes from a branch.", ["owner", "repo", "head", "base", "title"], ["create", "get", "list", "merge", "comment"]),
   ("repository", "repositories", "A git repository with its settings.", ["owner", "name", "private", "description"], ["create", "get", "list", "delete", "search"]),
   ("branch", "branches", "A named line of commits.", ["owner", "repo", "branch", "from_sha"], ["create", "get", "list", "delete", "merge"]),
   ("commit", "commits", "A recorded change to the files of a repository.", ["owner", "repo", "sha", "path"], ["get", "list", "search", "comment", "download"]),
   ("release", "releases", "A tagged version with release notes and assets.", ["owner", "repo", "tag_name", "notes"], ["create", "get", "list", "update", "delete"]),
   ("workflow run", "workflow runs", "A GitHub Actions CI run of a workflow.", ["owner", "repo", "run_id", "workflow"], ["get", "list", "cancel", "restart", "download"]),
   ("gist", "gists", "A shared snippet of code or text.", ["files", "description", "public"], ["create", "get", "list", "update", "delete"]),
   ("label", "labels", "A colored tag for issues and pull requests.", ["owner", "repo", "name", "color"], ["create", "get", "list", "update", "delete"]),
   ("file", "files", "A file's content in a repository at a ref.", ["owner", "repo", "path", "ref", "content"], ["get", "create", "update", "delete", "search"]),
 ]),
 ("Jira", "jira", [
   ("issue", "issues", "A Jira issue: a bug, story or task in a project.", ["project_key", "summary", "description", "issue_type", "priority"], ["create", "get", "search", "update", "assign"]),
   ("comment", "comments", "A comment on a Jira issue.", ["issue_key", "body"], ["create", "list", "update", "delete", "get"]),
   ("project", "projects", "A Jira project grouping issues.", ["key", "name", "lead"], ["create", "get", "list", "update", "archive"]),
   ("sprint", "sprints", "A time-boxed iteration on a Scrum board.", ["board_id", "name", "start_date", "end_date", "goal"], ["create", "get", "list", "update", "close"]),
   ("board", "boards", "A Scrum or Kanban board showing issues.", ["board_id", "project_key", "type"], ["create", "get", "list", "delete", "search"]),
   ("transition", "transitions", "A workflow move of an issue to another status such as In Progress or Done.", ["issue_key", "transition_id"], ["list", "run", "get", "search", "create"]),
   ("worklog", "worklogs", "Time logged against an issue.", ["issue_key", "time_spent", "started"], ["create", "list", "update", "delete", "get"]),
   ("attachment", "attachments", "A file attached to an issue.", ["issue_key", "filename"], ["upload", "get", "list", "delete", "download"]),
   ("version", "versions", "A fix version (release) of a project.", ["project_key", "name", "release_date"], ["create", "get", "list", "update", "merge"]),
   ("filter", "filters", "A saved JQL search.", ["name", "jql", "favourite"], ["create", "get", "list", "update", "share"]),
 ]),
 ("Slack", "slack", [
   ("message", "messages", "A message posted in a channel or thread.", ["channel", "text", "thread_ts"], ["send", "update", "delete", "search", "pin"]),
   ("channel", "channels", "A Slack channel where a team talks.", ["name", "is_private", "topic"], ["create", "list", "archive", "invite", "mute"]),
   ("reaction", "reactions", "An emoji reaction on a message.", ["channel", "timestamp", "emoji"], ["create", "list", "delete", "get", "search"]),
   ("user", "users", "A member of the Slack workspace and their profile.", ["user_id", "email"], ["get", "list", "search", "update", "invite"]),
   ("reminder", "reminders", "A reminder Slackbot sends at a time.", ["text", "time", "user"], ["create", "list", "delete", "get", "schedule"]),
   ("file", "files", "A file shared in Slack.", ["channels", "filename", "content"], ["upload", "list", "delete", "share", "download"]),
   ("scheduled message", "scheduled messages", "A message set to be posted later.", ["channel", "text", "post_at"], ["schedule", "list", "delete", "get", "update"]),
   ("user group", "user groups", "A named group of users that can be mentioned together.", ["handle", "name", "users"], ["create", "list", "update", "archive", "invite"]),
   ("bookmark", "bookmarks", "A link bookmarked in a channel header.", ["channel", "title", "link"], ["create", "list", "update", "delete", "get"]),
   ("status", "statuses", "A user's status text and emoji, with an expiry.", ["status_text", "status_emoji", "expiration"], ["update", "get", "list", "delete", "schedule"]),
 ]),
 ("Gmail", "gmail", [
   ("email", "emails", "An email message in the mailbox.", ["to", "cc", "subject", "body"], ["send", "get", "search", "delete", "move"]),
   ("draft", "drafts", "An unsent email draft.", ["to", "subject", "body"], ["create", "get", "list", "update", "send"]),
   ("label", "labels", "A Gmail label used to organise mail.", ["name", "color"], ["create", "list", "update", "delete", "get"]),
   ("thread", "threads", "A conversation: an email and its replies.", ["thread_id", "query"], ["get", "list", "archive", "delete", "mute"]),
   ("attachment", "attachments", "A file attached to an email.", ["message_id", "attachment_id"], ["get", "download", "list", "search", "upload"]),
   ("filter", "filters", "A rule that sorts incoming mail automatically.", ["from", "subject_contains", "add_label"], ["create", "list", "delete", "get", "update"]),
   ("contact", "contacts", "A person in the address book with email and phone.", ["name", "email", "phone"], ["create", "search", "update", "delete", "get"]),
   ("signature", "signatures", "The text appended to sent emails.", ["send_as", "signature"], ["get", "update", "list", "create", "delete"]),
   ("vacation responder", "vacation responders", "The out-of-office auto reply.", ["subject", "message", "start", "end"], ["get", "update", "schedule", "cancel", "create"]),
   ("forwarding address", "forwarding addresses", "An address incoming mail is forwarded to.", ["email"], ["create", "list", "delete", "get", "update"]),
 ]),
 ("Google Calendar", "calendar", [
   ("event", "events", "A meeting or appointment on a calendar with attendees.", ["calendar_id", "summary", "start", "end", "attendees"], ["create", "get", "list", "update", "delete"]),
   ("calendar", "calendars", "A calendar of events.", ["summary", "time_zone"], ["create", "get", "list", "delete", "share"]),
   ("free busy slot", "free busy slots", "When people are free or busy, to find a meeting time.", ["emails", "time_min", "time_max"], ["query", "get", "list", "search", "export"]),
   ("attendee", "attendees", "A guest invited to an event and their response.", ["event_id", "email", "response"], ["invite", "list", "update", "delete", "get"]),
   ("reminder", "reminders", "A notification before an event starts.", ["event_id", "minutes_before", "method"], ["create", "list", "update", "delete", "get"]),
   ("room", "rooms", "A bookable meeting room resource.", ["building", "capacity"], ["list", "get", "search", "schedule", "cancel"]),
   ("recurring event", "recurring events", "An event that repeats by a rule (RRULE).", ["summary", "recurrence", "start"], ["create", "update", "cancel", "list", "get"]),
   ("working hours", "working hours", "The hours and location a person works.", ["days", "start_time", "end_time"], ["get", "update", "list", "create", "delete"]),
   ("out of office", "out of office blocks", "A block that declines meetings while away.", ["start", "end", "message"], ["create", "list", "cancel", "get", "update"]),
   ("color", "colors", "The palette of event and calendar colors.", ["kind"], ["list", "get", "update", "search", "export"]),
 ]),
 ("Google Drive", "drive", [
   ("file", "files", "A file stored in Drive.", ["file_id", "name", "mime_type"], ["upload", "download", "search", "delete", "move"]),
   ("folder", "folders", "A folder that holds files.", ["name", "parent_id"], ["create", "list", "move", "delete", "share"]),
   ("permission", "permissions", "Who may view, comment on or edit a file.", ["file_id", "email", "role"], ["create", "list", "update", "delete", "get"]),
   ("document", "documents", "A Google Docs text document.", ["title", "content"], ["create", "get", "update", "export", "share"]),
   ("spreadsheet", "spreadsheets", "A Google Sheets spreadsheet with cells and formulas.", ["title", "range", "values"], ["create", "get", "update", "export", "query"]),
   ("presentation", "presentations", "A Google Slides deck of slides.", ["title", "slides"], ["create", "get", "update", "export", "share"]),
   ("revision", "revisions", "A saved earlier version of a file.", ["file_id", "revision_id"], ["list", "get", "download", "delete", "update"]),
   ("shared drive", "shared drives", "A team drive owned by a group rather than a person.", ["name", "members"], ["create", "list", "get", "delete", "invite"]),
   ("comment", "comments", "A comment on a file's content.", ["file_id", "content", "anchor"], ["create", "list", "resolve", "delete", "get"]),
   ("trash item", "trash items", "A file in the trash, restorable for 30 days.", ["file_id"], ["list", "delete", "get", "move", "search"]),
 ]),
 ("PostgreSQL", "postgres", [
   ("table", "tables", "A table of rows and columns in a schema.", ["schema", "table", "columns"], ["create", "list", "get", "delete", "query"]),
   ("row", "rows", "Rows of a table matched by a WHERE clause.", ["table", "where", "values"], ["create", "query", "update", "delete", "export"]),
   ("sql statement", "sql statements", "A SQL statement run on the database.", ["sql", "params"], ["run", "query", "get", "cancel", "list"]),
   ("index", "indexes", "A B-tree or other index on table columns to speed up lookups.", ["table", "columns", "unique"], ["create", "list", "delete", "get", "restart"]),
   ("schema", "schemas", "A namespace of tables, views and functions.", ["name", "owner"], ["create", "list", "delete", "get", "move"]),
   ("view", "views", "A stored query that acts like a table.", ["name", "definition"], ["create", "list", "delete", "get", "query"]),
   ("role", "roles", "A database login or group role and its privileges.", ["name", "login", "grants"], ["create", "list", "update", "delete", "get"]),
   ("backup", "backups", "A dump of the database to restore from.", ["database", "format"], ["create", "list", "download", "delete", "get"]),
   ("query plan", "query plans", "The EXPLAIN plan of a query, with costs.", ["sql", "analyze"], ["get", "query", "export", "list", "search"]),
   ("connection", "connections", "A client connection (pg_stat_activity) to the server.", ["pid", "database"], ["list", "get", "cancel", "search", "delete"]),
 ]),
 ("AWS S3", "s3", [
   ("bucket", "buckets", "An S3 bucket holding objects in a region.", ["bucket", "region", "versioning"], ["create", "list", "delete", "get", "update"]),
   ("object", "objects", "An object (file) stored under a key in a bucket.", ["bucket", "key", "body", "content_type"], ["upload", "download", "list", "delete", "move"]),
   ("presigned url", "presigned urls", "A time-limited URL to read or write an object without credentials.", ["bucket", "key", "expires_in", "method"], ["create", "get", "list", "delete", "share"]),
   ("bucket policy", "bucket policies", "The JSON access policy of a bucket.", ["bucket", "policy"], ["get", "update", "delete", "create", "list"]),
   ("lifecycle rule", "lifecycle rules", "A rule that expires or transitions objects after days.", ["bucket", "prefix", "expire_days"], ["create", "list", "update", "delete", "get"]),
   ("object version", "object versions", "An earlier version of an object in a versioned bucket.", ["bucket", "key", "version_id"], ["list", "get", "download", "delete", "search"]),
   ("multipart upload", "multipart uploads", "A large upload sent in parts.", ["bucket", "key", "upload_id", "part_number"], ["create", "list", "cancel", "upload", "get"]),
   ("object tag", "object tags", "Key-value tags on an object.", ["bucket", "key", "tags"], ["get", "update", "delete", "list", "create"]),
   ("cors rule", "cors rules", "Which browser origins may access the bucket.", ["bucket", "allowed_origins", "allowed_methods"], ["get", "update", "delete", "create", "list"]),
   ("replication rule", "replication rules", "Copies new objects to a bucket in another region.", ["bucket", "destination", "prefix"], ["create", "get", "delete", "list", "update"]),
 ]),
 ("Kubernetes", "k8s", [
   ("pod", "pods", "A pod: one or more containers running together on a node.", ["namespace", "name", "container"], ["list", "get", "delete", "restart", "download"]),
   ("deployment", "deployments", "A deployment keeps replicas of a pod template running and rolls out new images.", ["namespace", "name", "image", "replicas"], ["create", "get", "list", "scale", "restart"]),
   ("service", "services", "A stable network endpoint in front of pods.", ["namespace", "name", "port", "selector"], ["create", "get", "list", "delete", "update"]),
   ("namespace", "namespaces", "A namespace isolating a team's resources in the cluster.", ["name", "labels"], ["create", "list", "delete", "get", "update"]),
   ("config map", "config maps", "Non-secret configuration as key-value data.", ["namespace", "name", "data"], ["create", "get", "update", "delete", "list"]),
   ("secret", "secrets", "Sensitive data such as passwords and tokens.", ["namespace", "name", "data", "type"], ["create", "get", "update", "delete", "list"]),
   ("log", "logs", "The stdout and stderr logs of a container.", ["namespace", "pod", "container", "since", "tail_lines"], ["get", "search", "download", "export", "list"]),
   ("node", "nodes", "A worker machine of the cluster.", ["name", "unschedulable"], ["list", "get", "update", "delete", "restart"]),
   ("cron job", "cron jobs", "A job run on a cron schedule.", ["namespace", "name", "schedule", "image"], ["create", "list", "delete", "run", "update"]),
   ("ingress", "ingresses", "HTTP routing from outside the cluster to services by host and path.", ["namespace", "name", "host", "path"], ["create", "get", "list", "delete", "update"]),
 ]),
 ("Sentry", "sentry", [
   ("issue", "issues", "A group of similar error events (exceptions) in a project.", ["organization", "project", "issue_id", "query"], ["get", "list", "resolve", "assign", "search"]),
   ("event", "events", "One captured error with its stack trace and breadcrumbs.", ["organization", "project", "event_id"], ["get", "list", "search", "download", "export"]),
   ("project", "projects", "A Sentry project for one application.", ["organization", "slug", "platform"], ["create", "get", "list", "update", "delete"]),
   ("release", "releases", "A version of the app, with commits and deploys.", ["organization", "version", "projects"], ["create", "get", "list", "update", "delete"]),
   ("alert rule", "alert rules", "A rule that notifies when errors spike.", ["organization", "project", "conditions", "actions"], ["create", "list", "update", "delete", "get"]),
   ("team", "teams", "A team of members owning projects.", ["organization", "slug", "name"], ["create", "list", "delete", "get", "invite"]),
   ("dsn key", "dsn keys", "The client key (DSN) an SDK uses to send events.", ["organization", "project", "name"], ["create", "list", "delete", "get", "update"]),
   ("performance transaction", "performance transactions", "A traced request with its spans and duration, for performance monitoring.", ["organization", "project", "transaction"], ["get", "list", "search", "query", "export"]),
   ("source map", "source maps", "Uploaded source maps that un-minify JavaScript stack traces.", ["organization", "release", "file"], ["upload", "list", "delete", "get", "download"]),
   ("member", "members", "A person in the Sentry organization.", ["organization", "email", "role"], ["invite", "list", "update", "delete", "get"]),
 ]),
 ("Stripe", "stripe", [
   ("customer", "customers", "A paying customer with email and payment methods.", ["email", "name", "customer_id"], ["create", "get", "search", "update", "delete"]),
   ("payment intent", "payment intents", "A payment being collected from a customer.", ["amount", "currency", "customer_id"], ["create", "get", "list", "cancel", "update"]),
   ("charge", "charges", "A completed card charge.", ["charge_id", "amount"], ["get", "list", "refund", "search", "update"]),
   ("refund", "refunds", "Money given back to a customer for a charge.", ["charge_id", "amount", "reason"], ["create", "get", "list", "cancel", "update"]),
   ("subscription", "subscriptions", "A recurring billing plan of a customer.", ["customer_id", "price_id", "trial_days"], ["create", "get", "list", "cancel", "update"]),
   ("invoice", "invoices", "A bill sent to a customer, paid or open.", ["customer_id", "invoice_id", "due_date"], ["create", "get", "list", "send", "download"]),
   ("product", "products", "Something you sell, with its prices.", ["name", "description"], ["create", "get", "list", "update", "archive"]),
   ("price", "prices", "How much and how often a product costs.", ["product_id", "unit_amount", "currency", "interval"], ["create", "get", "list", "update", "archive"]),
   ("coupon", "coupons", "A discount applied to invoices or subscriptions.", ["percent_off", "duration", "code"], ["create", "get", "list", "delete", "update"]),
   ("payout", "payouts", "A transfer of the balance to your bank account.", ["amount", "currency", "payout_id"], ["create", "get", "list", "cancel", "schedule"]),
 ]),
 ("Notion", "notion", [
   ("page", "pages", "A Notion page with blocks of content.", ["parent_id", "title", "content"], ["create", "get", "update", "archive", "search"]),
   ("database", "databases", "A Notion database: a table of pages with properties.", ["parent_id", "title", "properties"], ["create", "get", "query", "update", "search"]),
   ("block", "blocks", "A paragraph, heading, to-do or other content block of a page.", ["block_id", "children"], ["get", "list", "update", "delete", "create"]),
   ("comment", "comments", "A discussion comment on a page or block.", ["page_id", "rich_text"], ["create", "list", "get", "resolve", "delete"]),
   ("user", "users", "A person or bot in the Notion workspace.", ["user_id"], ["get", "list", "search", "invite", "update"]),
   ("database row", "database rows", "One entry (page) of a Notion database.", ["database_id", "properties"], ["create", "update", "archive", "query", "get"]),
   ("template", "templates", "A page template to start new pages from.", ["name", "database_id"], ["create", "list", "get", "update", "delete"]),
   ("workspace", "workspaces", "The Notion workspace and its settings.", ["name"], ["get", "list", "update", "export", "invite"]),
   ("property", "properties", "A column of a database: select, date, person and so on.", ["database_id", "name", "type"], ["create", "update", "delete", "list", "get"]),
   ("link preview", "link previews", "An unfurled preview of a pasted link.", ["url"], ["create", "get", "delete", "list", "update"]),
 ]),
 ("Salesforce", "salesforce", [
   ("lead", "leads", "A prospect not yet qualified as a sales opportunity.", ["first_name", "last_name", "company", "email"], ["create", "get", "update", "delete", "merge"]),
   ("opportunity", "opportunities", "A potential deal with an amount, stage and close date.", ["account_id", "amount", "stage", "close_date"], ["create", "get", "update", "search", "close"]),
   ("account", "accounts", "A company you do business with.", ["name", "industry", "website"], ["create", "get", "update", "search", "merge"]),
   ("contact", "contacts", "A person at an account.", ["account_id", "first_name", "last_name", "email"], ["create", "get", "update", "delete", "search"]),
   ("case", "cases", "A customer support case.", ["account_id", "subject", "priority", "status"], ["create", "get", "update", "close", "assign"]),
   ("report", "reports", "A Salesforce report over records.", ["report_id", "filters"], ["run", "get", "list", "export", "schedule"]),
   ("soql query", "soql queries", "A SOQL query over Salesforce objects.", ["soql"], ["run", "query", "get", "export", "cancel"]),
   ("task", "tasks", "A to-do or logged call for a record.", ["what_id", "subject", "due_date"], ["create", "update", "list", "close", "assign"]),
   ("campaign", "campaigns", "A marketing campaign and its members.", ["name", "start_date", "budget"], ["create", "get", "update", "list", "archive"]),
   ("quote", "quotes", "A price quote for an opportunity.", ["opportunity_id", "line_items"], ["create", "get", "update", "send", "delete"]),
 ]),
 ("Zendesk", "zendesk", [
   ("ticket", "tickets", "A customer support ticket with its conversation.", ["subject", "description", "requester", "priority"], ["create", "get", "update", "search", "assign"]),
   ("ticket comment", "ticket comments", "A public reply or internal note on a ticket.", ["ticket_id", "body", "public"], ["create", "list", "get", "update", "delete"]),
   ("user", "users", "An end user, agent or admin of the help desk.", ["name", "email", "role"], ["create", "get", "search", "update", "delete"]),
   ("organization", "organizations", "A customer company grouping end users.", ["name", "domain_names"], ["create", "get", "list", "update", "delete"]),
   ("macro", "macros", "A saved set of actions agents apply to tickets.", ["title", "actions"], ["create", "list", "run", "update", "delete"]),
   ("help center article", "help center articles", "A knowledge base article customers read.", ["title", "body", "section_id"], ["create", "get", "search", "update", "archive"]),
   ("satisfaction rating", "satisfaction ratings", "A customer's CSAT score for a solved ticket.", ["ticket_id", "score"], ["list", "get", "create", "export", "search"]),
   ("view", "views", "A saved ticket list filter for agents.", ["title", "conditions"], ["create", "list", "get", "update", "delete"]),
   ("trigger", "triggers", "A business rule that runs when a ticket is created or updated.", ["title", "conditions", "actions"], ["create", "list", "update", "delete", "get"]),
   ("group", "groups", "A group of agents tickets can be assigned to.", ["name", "agents"], ["create", "list", "update", "delete", "get"]),
 ]),
 ("PagerDuty", "pagerduty", [
   ("incident", "incidents", "An incident paging the on-call responder.", ["service_id", "title", "urgency", "incident_id"], ["create", "get", "list", "acknowledge", "resolve"]),
   ("on-call schedule", "on-call schedules", "Who is on call when, in rotation layers.", ["schedule_id", "since", "until"], ["get", "list", "create", "update", "delete"]),
   ("service", "services", "A monitored service that incidents are raised on.", ["name", "escalation_policy_id"], ["create", "get", "list", "update", "delete"]),
   ("escalation policy", "escalation policies", "Who is paged next when an incident is not acknowledged.", ["name", "rules"], ["create", "get", "list", "update", "delete"]),
   ("maintenance window", "maintenance windows", "A period when a service's alerts create no incidents.", ["service_ids", "start_time", "end_time"], ["create", "list", "cancel", "get", "update"]),
   ("incident note", "incident notes", "A timeline note on an incident.", ["incident_id", "content"], ["create", "list", "get", "update", "delete"]),
   ("override", "overrides", "A temporary swap of who is on call.", ["schedule_id", "user_id", "start", "end"], ["create", "list", "delete", "get", "update"]),
   ("alert", "alerts", "A monitoring alert grouped into an incident.", ["incident_id", "alert_id"], ["list", "get", "resolve", "update", "search"]),
   ("responder request", "responder requests", "A request that pulls more people into an incident.", ["incident_id", "targets", "message"], ["create", "get", "list", "cancel", "send"]),
   ("postmortem", "postmortems", "The written review after an incident.", ["incident_id", "summary"], ["create", "get", "update", "list", "export"]),
 ]),
 ("Datadog", "datadog", [
   ("monitor", "monitors", "A monitor alerting when a metric crosses a threshold.", ["name", "query", "threshold", "message"], ["create", "get", "list", "update", "mute"]),
   ("dashboard", "dashboards", "A dashboard of graphs and widgets.", ["title", "widgets"], ["create", "get", "list", "update", "share"]),
   ("metric", "metrics", "A time series such as cpu or latency, with tags.", ["metric", "from", "to", "query"], ["query", "list", "get", "search", "export"]),
   ("log", "logs", "Indexed log lines from hosts and services.", ["query", "from", "to", "index"], ["search", "export", "get", "list", "query"]),
   ("trace", "traces", "An APM trace across services with spans.", ["service", "trace_id", "from"], ["get", "search", "list", "export", "query"]),
   ("downtime", "downtimes", "A scheduled silence of monitors.", ["scope", "start", "end"], ["schedule", "list", "cancel", "get", "update"]),
   ("synthetic test", "synthetic tests", "An API or browser check run from locations.", ["name", "url", "locations"], ["create", "run", "list", "get", "delete"]),
   ("slo", "slos", "A service level objective and its error budget.", ["name", "target", "timeframe"], ["create", "get", "list", "update", "delete"]),
   ("event", "events", "An event on the Datadog event stream, such as a deploy.", ["title", "text", "tags"], ["create", "get", "list", "search", "export"]),
   ("host", "hosts", "An infrastructure host reporting an agent.", ["hostname", "tags"], ["list", "get", "mute", "search", "update"]),
 ]),
 ("Confluence", "confluence", [
   ("page", "pages", "A Confluence wiki page in a space.", ["space_key", "title", "body", "parent_id"], ["create", "get", "update", "delete", "search"]),
   ("space", "spaces", "A Confluence space of pages for a team.", ["key", "name", "description"], ["create", "get", "list", "archive", "delete"]),
   ("blog post", "blog posts", "A dated blog post in a space.", ["space_key", "title", "body"], ["create", "get", "list", "update", "delete"]),
   ("comment", "comments", "A footer or inline comment on a page.", ["page_id", "body"], ["create", "list", "update", "delete", "resolve"]),
   ("attachment", "attachments", "A file attached to a page.", ["page_id", "filename"], ["upload", "list", "download", "delete", "get"]),
   ("page label", "page labels", "A label tagging pages for search.", ["page_id", "label"], ["create", "list", "delete", "search", "get"]),
   ("page version", "page versions", "An earlier version of a page's content.", ["page_id", "version"], ["list", "get", "delete", "export", "download"]),
   ("page restriction", "page restrictions", "Who may view or edit a page.", ["page_id", "user", "operation"], ["get", "update", "delete", "create", "list"]),
   ("template", "templates", "A page template of a space.", ["space_key", "name", "body"], ["create", "get", "list", "update", "delete"]),
   ("page tree", "page trees", "A page with its child pages, to move or copy.", ["page_id", "target_parent_id"], ["move", "get", "export", "list", "delete"]),
 ]),
 ("Linear", "linear", [
   ("issue", "issues", "A Linear issue tracked by a team, with state and estimate.", ["team_id", "title", "description", "priority", "estimate"], ["create", "get", "update", "search", "assign"]),
   ("project", "projects", "A Linear project: issues toward a goal with a target date.", ["name", "team_ids", "target_date"], ["create", "get", "list", "update", "archive"]),
   ("cycle", "cycles", "A Linear cycle: a repeating sprint of issues.", ["team_id", "starts_at", "ends_at"], ["create", "get", "list", "update", "close"]),
   ("team", "teams", "A Linear team and its workflow.", ["name", "key"], ["create", "get", "list", "update", "invite"]),
   ("comment", "comments", "A comment on a Linear issue.", ["issue_id", "body"], ["create", "list", "update", "delete", "react"]),
   ("label", "labels", "An issue label in Linear.", ["name", "color", "team_id"], ["create", "list", "update", "delete", "archive"]),
   ("workflow state", "workflow states", "A column of the team's workflow, like Todo, In Progress, Done.", ["team_id", "name", "type"], ["create", "list", "update", "archive", "get"]),
   ("roadmap", "roadmaps", "A roadmap grouping projects.", ["name", "project_ids"], ["create", "get", "list", "update", "archive"]),
   ("issue relation", "issue relations", "A blocks, duplicates or relates-to link between two issues.", ["issue_id", "related_issue_id", "type"], ["create", "list", "delete", "get", "update"]),
   ("attachment", "attachments", "A link or file attached to an issue.", ["issue_id", "url", "title"], ["create", "list", "delete", "upload", "get"]),
 ]),
 ("HubSpot", "hubspot", [
   ("contact", "contacts", "A CRM contact: a person with email, phone and lifecycle stage.", ["email", "firstname", "lastname", "phone"], ["create", "get", "update", "search", "merge"]),
   ("company", "companies", "A CRM company record.", ["name", "domain", "industry"], ["create", "get", "update", "search", "delete"]),
   ("deal", "deals", "A deal in a sales pipeline stage with an amount.", ["dealname", "amount", "pipeline", "dealstage"], ["create", "get", "update", "search", "close"]),
   ("marketing email", "marketing emails", "A bulk marketing email to a list.", ["name", "subject", "list_id"], ["create", "send", "schedule", "get", "list"]),
   ("contact list", "contact lists", "A static or active list of contacts.", ["name", "filters"], ["create", "get", "list", "update", "delete"]),
   ("form", "forms", "A website form that captures leads.", ["name", "fields"], ["create", "get", "list", "update", "delete"]),
   ("note", "notes", "A note logged on a CRM record's timeline.", ["object_id", "body"], ["create", "get", "list", "update", "delete"]),
   ("meeting", "meetings", "A meeting logged or booked with a contact.", ["contact_id", "title", "start_time"], ["create", "get", "list", "schedule", "cancel"]),
   ("pipeline", "pipelines", "A sales pipeline and its stages.", ["label", "stages"], ["create", "get", "list", "update", "delete"]),
   ("workflow", "workflows", "A marketing automation workflow.", ["name", "enrollment_triggers", "actions"], ["create", "get", "list", "run", "delete"]),
 ]),
 ("Twilio", "twilio", [
   ("sms", "sms messages", "A text message (SMS) to a phone number.", ["to", "from", "body"], ["send", "get", "list", "delete", "schedule"]),
   ("call", "calls", "A voice phone call.", ["to", "from", "twiml_url"], ["create", "get", "list", "cancel", "update"]),
   ("phone number", "phone numbers", "A phone number rented from Twilio.", ["phone_number", "area_code", "voice_url"], ["search", "create", "list", "update", "delete"]),
   ("recording", "recordings", "The audio recording of a call.", ["call_sid", "recording_sid"], ["get", "list", "download", "delete", "export"]),
   ("verification", "verifications", "A one-time passcode sent to verify a phone number or email (2FA).", ["to", "channel", "code"], ["create", "get", "update", "cancel", "send"]),
   ("conversation", "conversations", "A multi-party chat thread over SMS or WhatsApp.", ["friendly_name", "participants"], ["create", "get", "list", "delete", "update"]),
   ("whatsapp message", "whatsapp messages", "A WhatsApp message sent through Twilio.", ["to", "body", "media_url"], ["send", "get", "list", "delete", "schedule"]),
   ("usage record", "usage records", "How much you used and spent, by category.", ["category", "start_date", "end_date"], ["list", "get", "export", "query", "search"]),
   ("fax", "faxes", "A fax sent to a number.", ["to", "media_url"], ["send", "get", "list", "cancel", "delete"]),
   ("lookup", "lookups", "Carrier and caller name information for a phone number.", ["phone_number", "fields"], ["get", "run", "list", "export", "search"]),
 ]),
]

def snake(s):
    return s.replace("-", " ").replace(" ", "_")

def main():
    assert len(C) == 20
    out = []
    for product, slug, resources in C:
        assert len(resources) == 10, slug
        names = set()
        for noun, nouns, desc, fields, actions in resources:
            assert len(actions) == 5, (slug, noun)
            for action in actions:
                plural = action in ("list", "search", "export") and noun != "log"
                name = f"{action}_{snake(nouns if plural else noun)}"
                assert name not in names, (slug, name)
                names.add(name)
                props = {f: {"type": "string", "description": f.replace("_", " ")} for f in fields}
                if action in ("list", "search"):
                    props["limit"] = {"type": "integer", "description": "at most this many"}
                if action == "search":
                    props["query"] = {"type": "string", "description": "text to search for"}
                out.append({
                    "name": f"{slug}__{name}",
                    "description": ACTIONS[action].format(noun=noun, nouns=nouns, product=product, desc=desc),
                    "inputSchema": {"type": "object", "properties": props},
                })
    assert len(out) == 1000
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tools.jsonl")
    with open(path, "w") as f:
        for t in out:
            f.write(json.dumps(t, sort_keys=True) + "\n")

main()
