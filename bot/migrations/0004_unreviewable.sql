-- Posts the detectors could not (fully) review: the error is kept with the post and shown to moderators
-- in an alert ("could not review post X: reason"). NULL: every detector judged the post.

ALTER TABLE posts ADD COLUMN review_error TEXT;
ALTER TABLE post_revisions ADD COLUMN review_error TEXT;
