/**
 * The AWS SDK warns on every start that its releases from 2027 will need Node 22. K2 pins the SDK
 * in its lockfile and supports Node 20, so the warning says nothing to K2's users; set the
 * variable to "false" to see it. Imported first by the entry points.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
